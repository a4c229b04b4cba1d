using Lumo.Core.SyncData;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.SyncData;

/// <summary>Sync Data of a LINE account: start "Update LINE Consent Status", and follow any sync run's progress.</summary>
public static class SyncDataEndpoints
{
    private const int RunsListed = 50;

    public sealed record SyncRunView(string Id, string Kind, string Status, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, int Profiles, int Failures,
        IReadOnlyDictionary<string, int> Counts, string? Problem, IReadOnlyList<string> FailureDetails);

    public static RouteGroupBuilder MapSyncDataEndpoints(this RouteGroupBuilder manage)
    {
        var account = manage.MapGroup("/workspaces/{workspaceId}/accounts/{accountId}").WithTags("Sync Data");
        account.MapPost("/consent-refresh", StartConsentRefresh);
        account.MapGet("/sync-runs", ListRuns);
        account.MapGet("/sync-runs/{runId}", GetRun);
        return manage;
    }

    /// <summary>
    /// Starts "Update LINE Consent Status" in the background: 202 with the run to follow, or 409 with the run already
    /// under way for this account.
    /// </summary>
    public static async Task<Results<Accepted<SyncRunView>, Conflict<SyncRunView>, ProblemHttpResult>> StartConsentRefresh(string workspaceId, string accountId,
        WorkspaceStore workspaces, ConsentRefresh refresh, CancellationToken ct)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is not { } account) return AdminProblems.AccountNotFound(workspaceId, accountId);
        var (run, started) = await refresh.StartAsync(account, ct);
        return started
            ? TypedResults.Accepted($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{accountId}/sync-runs/{run.Id}", View(run))
            : TypedResults.Conflict(View(run));
    }

    /// <summary>The account's latest sync runs, newest first.</summary>
    public static async Task<Results<Ok<List<SyncRunView>>, ProblemHttpResult>> ListRuns(string workspaceId, string accountId, WorkspaceStore workspaces,
        SyncRunHistory history, CancellationToken ct) =>
        await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is null
            ? AdminProblems.AccountNotFound(workspaceId, accountId)
            : TypedResults.Ok((await history.ListAsync(workspaceId, accountId, RunsListed, ct)).Select(View).ToList());

    public static async Task<Results<Ok<SyncRunView>, ProblemHttpResult>> GetRun(string workspaceId, string accountId, string runId, SyncRunHistory history, CancellationToken ct) =>
        await history.GetIfExistsAsync(workspaceId, accountId, runId, ct) is { } run
            ? TypedResults.Ok(View(run))
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such sync run", detail: $"Account {accountId} has no sync run {runId}.");

    private static SyncRunView View(SyncRun run) =>
        new(run.Id, run.Kind, run.Status, run.StartedAt, run.FinishedAt, run.Profiles, run.Failures, run.Counts, run.Problem, run.FailureDetails);
}
