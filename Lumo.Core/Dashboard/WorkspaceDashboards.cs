using System.Text.Json;
using Lumo.Core.Friends;
using Lumo.Core.IdLinkage;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.SyncData;
using Lumo.Core.Workspaces;

namespace Lumo.Core.Dashboard;

/// <summary>
/// One sync of any kind (<see cref="SyncKinds"/>), newest first in the dashboard's history: when, how many profiles,
/// how many failed, and — when asked for — what failed (Klaviyo's answers, at most 100).
/// </summary>
public sealed record SyncHistoryEntry(string Kind, string? AccountId, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string Status, int Profiles, int Failures,
    string? Detail, IReadOnlyList<string>? FailureDetails);

public enum IntegrationHealth { Healthy, NeedsReconnect, SyncFailing, NotChecked }

/// <summary>
/// How the integration is: <c>NeedsReconnect</c> names the refused credentials ("Klaviyo", "LINE {account name}");
/// <c>LatestDataSynced</c> is true when no Klaviyo event is parked and the latest bulk property write, if any, finished
/// without failures.
/// </summary>
public sealed record IntegrationStatus(IntegrationHealth Health, IReadOnlyList<string> NeedsReconnect, bool LatestDataSynced, int ParkedEvents, int ParkedWork);

/// <summary>
/// The connected Klaviyo account: how Lumo is connected (<see cref="KlaviyoConnections"/>), the profile property holding
/// the LINE User ID per LINE account id, and — while Klaviyo refuses the credentials — where to reconnect.
/// </summary>
public sealed record ConnectedKlaviyoAccount(string? AccountId, string ConnectedWith, IReadOnlyDictionary<string, string> IdMatchingProperties, DateTimeOffset ConnectedAt,
    string? ReconnectUrl);

public sealed record WorkspaceDashboard(IntegrationStatus Status, ConnectedKlaviyoAccount Klaviyo, IReadOnlyList<SyncHistoryEntry> History);

/// <summary>
/// The dashboard of a workspace, for the admin API and the admin page alike: integration status, the connected Klaviyo
/// account, and the sync history of every kind.
/// </summary>
public sealed class WorkspaceDashboards(WorkspaceStore workspaces, FriendBulkSync bulkSync, LinkImportHistory imports, SyncRunHistory syncRuns, KlaviyoEventOutbox outbox)
{
    private const int ParkedEventsCounted = 500;
    private const int RunsPerAccount = 50;

    /// <summary>
    /// The dashboard, or null when there is no such workspace. <paramref name="parkedWork"/> is the number of messages
    /// parked in the work queues, counted by the host side, which knows the queues; <paramref name="reconnectUrl"/> is
    /// the host's page for reconnecting Klaviyo, shown while Klaviyo refuses the credentials.
    /// </summary>
    public async Task<WorkspaceDashboard?> GetAsync(string workspaceId, int parkedWork, bool withFailureDetails, int historyLimit, string reconnectUrl,
        CancellationToken cancellationToken) =>
        await workspaces.GetWorkspaceIfExistsAsync(workspaceId, cancellationToken) is { } workspace
            ? await GetAsync(workspace, await workspaces.ListAccountsAsync(workspaceId, cancellationToken), parkedWork, withFailureDetails, historyLimit, reconnectUrl, cancellationToken)
            : null;

    /// <summary>The dashboard of a workspace the caller has already read, with its LINE accounts (parameters as above).</summary>
    public async Task<WorkspaceDashboard> GetAsync(Workspace workspace, IReadOnlyList<LineAccount> accounts, int parkedWork, bool withFailureDetails, int historyLimit,
        string reconnectUrl, CancellationToken cancellationToken)
    {
        var workspaceId = workspace.Id;
        var history = (await bulkSync.ListJobsAsync(workspaceId, cancellationToken)).Select(job => new SyncHistoryEntry(SyncKinds.PropertyWrites, job.GetString("AccountId"),
                job.GetDateTimeOffset("StartedAt") ?? job.Timestamp ?? default, job.GetDateTimeOffset("FinishedAt"), job.GetString("Status") ?? "unknown", job.GetInt32("Profiles") ?? 0,
                job.GetInt32("Failed") ?? 0, null, withFailureDetails && job.GetString("Errors") is { } errors ? JsonSerializer.Deserialize<List<string>>(errors) : null))
            .ToList();
        var runs = await Task.WhenAll(accounts.Select(async account => (Account: account, Runs: await imports.ListAsync(workspaceId, account.Id, RunsPerAccount, cancellationToken))));
        foreach (var (account, accountRuns) in runs)
            history.AddRange(accountRuns.Select(run => new SyncHistoryEntry(SyncKinds.ExistingIdImport,
                account.Id, run.StartedAt, run.FinishedAt, run.Status, run.Profiles, run.Conflicts,
                $"linked {run.Linked}, already linked {run.AlreadyLinked}, not friends {run.NotFriends}, without a LINE user ID {run.WithoutUserId}" + (run.Problem is null ? "" : $"; {run.Problem}"),
                withFailureDetails && run.Problem is not null ? [run.Problem] : null)));
        var syncs = await Task.WhenAll(accounts.Select(account => syncRuns.ListAsync(workspaceId, account.Id, RunsPerAccount, cancellationToken)));
        history.AddRange(syncs.SelectMany(runs => runs).Select(run => new SyncHistoryEntry(run.Kind, run.AccountId, run.StartedAt, run.FinishedAt, run.Status, run.Profiles,
            run.Failures, string.Join(", ", run.Counts.Select(c => $"{c.Key} {c.Value}")) + (run.Problem is null ? "" : $"; {run.Problem}"),
            withFailureDetails ? run.FailureDetails : null)));
        history = history.OrderByDescending(h => h.StartedAt).ToList();
        // Taken before the history is cut to its limit: frequent imports must not push the latest bulk write out of sight.
        var latestWrite = history.FirstOrDefault(h => h.Kind == SyncKinds.PropertyWrites);
        history = history.Take(historyLimit).ToList();

        var parkedEvents = (await outbox.ListParkedAsync(workspaceId, ParkedEventsCounted, cancellationToken)).Count;
        var connections = accounts.Select(a => (Name: "LINE " + a.Name, a.Line.Status)).Prepend((Name: "Klaviyo", workspace.Klaviyo.Status)).ToList();
        var refused = connections.Where(c => c.Status is ConnectionStatus.Failed or ConnectionStatus.NeedsReconnect).Select(c => c.Name).ToList();
        var health = refused.Count > 0 ? IntegrationHealth.NeedsReconnect
            : parkedEvents > 0 || parkedWork > 0 || latestWrite?.Failures > 0 ? IntegrationHealth.SyncFailing
            : connections.Any(c => c.Status != ConnectionStatus.Verified) ? IntegrationHealth.NotChecked
            : IntegrationHealth.Healthy;
        var synced = parkedEvents == 0 && latestWrite is null or { Failures: 0, FinishedAt: not null };
        return new WorkspaceDashboard(new IntegrationStatus(health, refused, synced, parkedEvents, parkedWork),
            new ConnectedKlaviyoAccount(workspace.KlaviyoAccountId, workspace.KlaviyoConnectedWith, accounts.ToDictionary(a => a.Id, a => a.PropertyNames.UserId),
                workspace.KlaviyoConnectedAt ?? workspace.CreatedAt, workspace.Klaviyo.Status is ConnectionStatus.Failed or ConnectionStatus.NeedsReconnect ? reconnectUrl : null),
            history);
    }
}
