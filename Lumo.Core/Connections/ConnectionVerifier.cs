using Lumo.Core.Friends;
using Lumo.Core.Klaviyo;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Storage;
using Lumo.Core.Line;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Connections;

/// <summary>
/// Checks stored credentials against the vendors and records the outcome on the workspace or account, so an admin
/// sees "verified" or the reason it failed. Refused credentials are an outcome; an unreachable vendor is thrown so
/// the queue retries the check and finally parks it.
/// </summary>
public sealed class ConnectionVerifier(
    WorkspaceStore store, KlaviyoClient klaviyo, LineMessagingClient line, KlaviyoConnectionHealth health, KlaviyoEventRecorder events, LumoQueues queues,
    TimeProvider clock, ILogger<ConnectionVerifier> logger)
{
    public async Task VerifyAsync(VerifyConnectionsRequest request, CancellationToken cancellationToken)
    {
        var workspace = await store.GetWorkspaceIfExistsAsync(request.WorkspaceId, cancellationToken);
        if (workspace is null)
        {
            logger.LogInformation("Workspace {WorkspaceId} no longer exists; nothing to verify", request.WorkspaceId);
            return;
        }
        if (request.AccountId is null)
            await VerifyKlaviyoAsync(workspace, cancellationToken);

        var accounts = await store.ListAccountsAsync(workspace.Id, cancellationToken);
        foreach (var account in accounts.Where(a => request.AccountId is null || a.Id == request.AccountId))
            await VerifyLineAsync(account, cancellationToken);
    }

    private async Task VerifyKlaviyoAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        ConnectionState state;
        string? klaviyoAccountId = null;
        try
        {
            var account = await klaviyo.GetAccountAsync(workspace.Id, cancellationToken);
            (state, klaviyoAccountId) = (new(ConnectionStatus.Verified, clock.GetUtcNow(), account.OrganizationName), account.Id);
        }
        catch (KlaviyoApiException e) when (!e.IsTransient)
        {
            logger.LogWarning("Klaviyo refused the API key of workspace {WorkspaceId}: {Status} {Code}", workspace.Id, e.Status, e.Code);
            // A paused connection stays paused (its work waits for a working key); a new key that never worked failed.
            var status = workspace.Klaviyo.Status == ConnectionStatus.NeedsReconnect ? ConnectionStatus.NeedsReconnect : ConnectionStatus.Failed;
            state = new(status, clock.GetUtcNow(), $"verification: Klaviyo answered {e.Status} {e.Code}: {e.Message}");
        }
        await IgnoreDeletedAsync(() => store.RecordKlaviyoConnectionAsync(workspace.Id, state, klaviyoAccountId, cancellationToken));
        health.Forget(workspace.Id);
        if (state.Status == ConnectionStatus.Verified && workspace.Klaviyo.Status == ConnectionStatus.NeedsReconnect)
            await ResumeAsync(workspace, cancellationToken);
    }

    // What waited while the connection was paused: the events in the outbox, LINE properties that could not be
    // written (rewritten for every linked friend in bulk import jobs, which change nothing where they were current),
    // and a paused Klaviyo pull or resync.
    private async Task ResumeAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        logger.LogInformation("Klaviyo connection of workspace {WorkspaceId} works again: resuming its Klaviyo work", workspace.Id);
        await events.RequestExportAsync(workspace.Id, cancellationToken);
        foreach (var account in await store.ListAccountsAsync(workspace.Id, cancellationToken))
        {
            await queues.EnqueueAsync(QueueNames.KlaviyoProfileSync, new ProfileSyncRequest(workspace.Id, account.Id), cancellationToken);
            await queues.EnqueueAsync(QueueNames.KlaviyoPulls, new SyncData.KlaviyoPullRequest(workspace.Id, account.Id), cancellationToken); // a paused pull or resync goes on
        }
    }

    private async Task VerifyLineAsync(LineAccount account, CancellationToken cancellationToken)
    {
        ConnectionState state;
        LineBotInfo? bot = null;
        try
        {
            bot = await line.GetBotInfoAsync(new LineAccountRef(account.WorkspaceId, account.Id), cancellationToken);
            state = new(ConnectionStatus.Verified, clock.GetUtcNow());
        }
        catch (LineApiException e) when (!e.IsTransient)
        {
            logger.LogWarning("LINE refused the access token of account {AccountId}: {Status}", account.Id, e.Status);
            state = new(ConnectionStatus.Failed, clock.GetUtcNow(), $"LINE answered {e.Status}: {e.Message}");
        }
        await IgnoreDeletedAsync(() => store.RecordLineConnectionAsync(account.WorkspaceId, account.Id, state, bot, cancellationToken));
    }

    // The row may be deleted while we checked it; then there is nothing to record.
    private static async Task IgnoreDeletedAsync(Func<Task> write)
    {
        try { await write(); }
        catch (Azure.RequestFailedException e) when (e.Status == 404) { }
    }
}
