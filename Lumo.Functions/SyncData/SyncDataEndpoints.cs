using Lumo.Core.Klaviyo;
using Lumo.Core.Storage;
using Lumo.Core.SyncData;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.SyncData;

/// <summary>
/// Sync Data of a LINE account: sync rules, Klaviyo pulls and Resync Data (cancellable), "Update LINE Consent Status",
/// and every sync run's progress.
/// </summary>
public static class SyncDataEndpoints
{
    private const int RunsListed = 50;

    public sealed record SyncRunView(string Id, string Kind, string Status, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, int Profiles, int Failures,
        IReadOnlyDictionary<string, int> Counts, string? Problem, IReadOnlyList<string> FailureDetails);

    public static RouteGroupBuilder MapSyncDataEndpoints(this RouteGroupBuilder manage)
    {
        var account = manage.MapGroup("/workspaces/{workspaceId}/accounts/{accountId}").WithTags("Sync Data");
        account.MapPost("/consent-refresh", StartConsentRefresh);
        account.MapPost("/klaviyo-pull", StartPull);
        account.MapPost("/resync", StartResync);
        account.MapDelete("/sync-runs/{runId}", CancelRun);
        account.MapGet("/sync-runs", ListRuns);
        account.MapGet("/sync-runs/{runId}", GetRun);
        account.MapGet("/sync-rules", GetRules);
        account.MapPut("/sync-rules", SaveRules);
        account.MapGet("/sync-rules/klaviyo-fields", ListKlaviyoFields);
        return manage;
    }

    /// <summary>The account's sync rules, with its ETag for If-Match.</summary>
    public static async Task<Results<Ok<SyncRulesView>, ProblemHttpResult>> GetRules(string workspaceId, string accountId, WorkspaceStore workspaces, HttpContext http,
        CancellationToken ct)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is not { } account) return AdminProblems.AccountNotFound(workspaceId, accountId);
        WorkspaceEndpoints.SetETag(http, account.ETag);
        return TypedResults.Ok(SyncRules.ViewOf(account));
    }

    /// <summary>
    /// Changes the sync rules (send the ETag of the GET in If-Match): <c>lumoToKlaviyo</c> switches optional LINE
    /// properties on or off by name; <c>klaviyoToLumo</c> is the complete list of Klaviyo fields to pull, checked against Klaviyo.
    /// </summary>
    public static async Task<Results<Ok<SyncRulesView>, ValidationProblem, ProblemHttpResult>> SaveRules(string workspaceId, string accountId, SyncRulesDraft draft,
        [Microsoft.AspNetCore.Mvc.FromHeader(Name = "If-Match")] string? ifMatch, WorkspaceStore workspaces, SyncRules rules, HttpContext http, CancellationToken ct)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is not { } account) return AdminProblems.AccountNotFound(workspaceId, accountId);
        try
        {
            var (saved, errors) = await rules.SaveAsync(account, draft, ifMatch, ct);
            if (saved is null) return TypedResults.ValidationProblem(errors);
            WorkspaceEndpoints.SetETag(http, saved.ETag);
            return TypedResults.Ok(SyncRules.ViewOf(saved));
        }
        catch (EditConflictException e)
        {
            return AdminProblems.PreconditionFailed(e);
        }
        catch (KlaviyoApiException e)
        {
            return KlaviyoRefused(e);
        }
    }

    /// <summary>"Add Klaviyo Property": the standard fields and the custom properties found on the account's Klaviyo profiles.</summary>
    public static async Task<Results<Ok<KlaviyoFieldChoices>, ProblemHttpResult>> ListKlaviyoFields(string workspaceId, string accountId, WorkspaceStore workspaces,
        SyncRules rules, CancellationToken ct)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is null) return AdminProblems.AccountNotFound(workspaceId, accountId);
        try
        {
            return TypedResults.Ok(await rules.ListKlaviyoFieldsAsync(workspaceId, ct));
        }
        catch (KlaviyoApiException e)
        {
            return KlaviyoRefused(e);
        }
    }

    private static ProblemHttpResult KlaviyoRefused(KlaviyoApiException e) => TypedResults.Problem(statusCode: e.IsTransient ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway,
        title: "Klaviyo could not be asked", detail: $"Klaviyo answered {e.Status} {e.Code}: {e.Message}");

    /// <summary>
    /// Starts "Update LINE Consent Status" in the background: 202 with the run to follow, or 409 with the run already
    /// under way for this account.
    /// </summary>
    public static async Task<Results<Accepted<SyncRunView>, Conflict<SyncRunView>, ProblemHttpResult>> StartConsentRefresh(string workspaceId, string accountId,
        WorkspaceStore workspaces, ConsentRefresh refresh, CancellationToken ct)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is not { } account) return AdminProblems.AccountNotFound(workspaceId, accountId);
        return Started(await refresh.StartAsync(account, ct));
    }

    /// <summary>Pulls the chosen Klaviyo fields now instead of at the next 5-minute tick; 409 when the account pulls no field.</summary>
    public static async Task<Results<Accepted, ProblemHttpResult>> StartPull(string workspaceId, string accountId, WorkspaceStore workspaces, LumoQueues queues, CancellationToken ct)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is not { } account) return AdminProblems.AccountNotFound(workspaceId, accountId);
        if (account.PulledFields.Count == 0)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "No Klaviyo field is pulled", detail: "Add Klaviyo → Lumo fields to the sync rules first.");
        await queues.EnqueueAsync(QueueNames.KlaviyoPulls, new KlaviyoPullRequest(workspaceId, accountId), ct);
        return TypedResults.Accepted($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{accountId}/sync-runs");
    }

    /// <summary>
    /// Resync Data in the background: every Klaviyo profile read again (chosen fields onto linked friends, links made
    /// again where a profile carries this account's LINE User ID), then every linked friend's LINE properties written in
    /// bulk. 202 with the run to follow, or 409 with the pull or resync already unfinished for this account.
    /// </summary>
    public static async Task<Results<Accepted<SyncRunView>, Conflict<SyncRunView>, ProblemHttpResult>> StartResync(string workspaceId, string accountId,
        WorkspaceStore workspaces, KlaviyoProfilePull pulls, CancellationToken ct)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is not { } account) return AdminProblems.AccountNotFound(workspaceId, accountId);
        return Started(await pulls.StartResyncAsync(account, ct));
    }

    /// <summary>Cancels an unfinished pull or resync: it stops before its next page (202); what it did so far stays.</summary>
    public static async Task<Results<Accepted, ProblemHttpResult>> CancelRun(string workspaceId, string accountId, string runId, SyncRunHistory history, TimeProvider clock,
        CancellationToken ct)
    {
        var run = await history.GetIfExistsAsync(workspaceId, accountId, runId, ct);
        if (run is null) return NoSuchRun(accountId, runId);
        if (run.IsFinished || run.Kind is not (SyncKinds.KlaviyoPull or SyncKinds.Resync) || !await history.RequestCancelAsync(run, clock.GetUtcNow(), ct))
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not cancellable", detail: $"Sync run {runId} is {run.Status}; only unfinished pulls and resyncs can be cancelled.");
        return TypedResults.Accepted($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{accountId}/sync-runs/{runId}");
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
            : NoSuchRun(accountId, runId);

    private static ProblemHttpResult NoSuchRun(string accountId, string runId) => AdminProblems.NotFound("No such sync run", $"Account {accountId} has no sync run {runId}.");

    // 202 with the run to follow, or 409 with the run already under way.
    private static Results<Accepted<SyncRunView>, Conflict<SyncRunView>, ProblemHttpResult> Started((SyncRun Run, bool Started) start) => start.Started
        ? TypedResults.Accepted($"{ManageApi.RoutePrefix}/workspaces/{start.Run.WorkspaceId}/accounts/{start.Run.AccountId}/sync-runs/{start.Run.Id}", View(start.Run))
        : TypedResults.Conflict(View(start.Run));

    private static SyncRunView View(SyncRun run) =>
        new(run.Id, run.Kind, run.Status, run.StartedAt, run.FinishedAt, run.Profiles, run.Failures, run.Counts, run.Problem, run.FailureDetails);
}
