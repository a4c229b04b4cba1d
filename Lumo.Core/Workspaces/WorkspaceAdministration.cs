using Azure;
using Lumo.Core.Connections;
using Lumo.Core.Friends;
using Lumo.Core.Privacy;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Workspaces;

/// <summary>
/// Creates, changes and removes workspaces and LINE accounts. Credentials go to the secret store, never to the
/// table; every credential change queues a connection check so that the admin sees whether it works.
/// </summary>
public sealed class WorkspaceAdministration(
    WorkspaceStore store, ISecretStore secrets, TenantDataErasure erasure, LumoQueues queues, TimeProvider clock, ILogger<WorkspaceAdministration> logger)
{
    private const int MaxOrdinalAttempts = 10;

    public async Task<Workspace> CreateWorkspaceAsync(WorkspaceDraft draft, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var workspace = new Workspace
        {
            Id = NewId(), Name = draft.Name!.Trim(), DefaultRegion = ContactDetails.NormaliseRegion(draft.DefaultRegion), CreatedAt = now, UpdatedAt = now, KlaviyoConnectedAt = now,
        };
        await secrets.SetAsync(SecretNames.KlaviyoApiKey(workspace.Id), draft.Klaviyo!.PrivateApiKey!, cancellationToken);
        workspace = await store.AddWorkspaceAsync(workspace, cancellationToken);
        logger.LogInformation("Created workspace {WorkspaceId}", workspace.Id);
        await RequestVerificationAsync(workspace.Id, null, cancellationToken);
        return workspace;
    }

    public async Task<Workspace?> UpdateWorkspaceAsync(string workspaceId, WorkspaceDraft draft, string? ifMatch, CancellationToken cancellationToken)
    {
        var workspace = await store.GetWorkspaceIfExistsAsync(workspaceId, cancellationToken);
        if (workspace is null) return null;
        EditConflictException.ThrowIfStale(workspace.ETag, ifMatch);

        var credentialsChanged = draft.Klaviyo is not null;
        if (credentialsChanged)
        {
            await secrets.SetAsync(SecretNames.KlaviyoApiKey(workspaceId), draft.Klaviyo!.PrivateApiKey!, cancellationToken);
            // A private key replaces the app: its tokens are no longer used (the app stays installed in Klaviyo until disconnected there).
            await secrets.SetAsync(SecretNames.KlaviyoOAuthGrant(workspaceId), SecretNames.Cleared, cancellationToken);
        }
        workspace = workspace with
        {
            Name = draft.Name?.Trim() ?? workspace.Name,
            DefaultRegion = ContactDetails.NormaliseRegion(draft.DefaultRegion) ?? workspace.DefaultRegion,
            // A paused connection stays paused until the new key is verified; the verification then resumes the work.
            Klaviyo = !credentialsChanged ? workspace.Klaviyo
                : workspace.Klaviyo.Status == ConnectionStatus.NeedsReconnect ? workspace.Klaviyo with { Detail = "A new key was given; it is being verified." }
                : ConnectionState.Unverified,
            KlaviyoConnectedWith = credentialsChanged ? KlaviyoConnections.PrivateApiKey : workspace.KlaviyoConnectedWith,
            KlaviyoConnectedAt = credentialsChanged ? clock.GetUtcNow() : workspace.KlaviyoConnectedAt,
            UpdatedAt = clock.GetUtcNow(),
        };
        workspace = await Conflicting(() => store.UpdateWorkspaceAsync(workspace, cancellationToken));
        if (credentialsChanged)
            await RequestVerificationAsync(workspaceId, null, cancellationToken);
        return workspace;
    }

    /// <summary>
    /// Removes the workspace, its accounts and everything Lumo holds of them (<see cref="TenantDataErasure"/>).
    /// False when there was none.
    /// </summary>
    public async Task<bool> DeleteWorkspaceAsync(string workspaceId, string deletedBy, CancellationToken cancellationToken)
    {
        var workspace = await store.GetWorkspaceIfExistsAsync(workspaceId, cancellationToken);
        if (workspace is null) return false;
        var accounts = await store.ListAccountsAsync(workspaceId, cancellationToken);
        await erasure.EraseWorkspaceAsync(workspaceId, accounts.Select(a => a.Id), deletedBy, cancellationToken); // the workspace rows go last
        logger.LogInformation("Deleted workspace {WorkspaceId}", workspaceId);
        return true;
    }

    /// <summary>Connects a LINE account as the workspace's next ordinal. Null when the workspace does not exist.</summary>
    public async Task<LineAccount?> AddAccountAsync(string workspaceId, LineAccountDraft draft, CancellationToken cancellationToken)
    {
        var accountId = NewId();
        var secretsWritten = false;
        for (var attempt = 1; ; attempt++)
        {
            var workspace = await store.GetWorkspaceIfExistsAsync(workspaceId, cancellationToken);
            if (workspace is null) return null;
            if (!secretsWritten)
            {
                await secrets.SetAsync(SecretNames.ChannelSecret(workspaceId, accountId), draft.ChannelSecret!, cancellationToken);
                await secrets.SetAsync(SecretNames.ChannelAccessToken(workspaceId, accountId), draft.ChannelAccessToken!, cancellationToken);
                secretsWritten = true;
            }
            var now = clock.GetUtcNow();
            var account = new LineAccount
            {
                Id = accountId,
                WorkspaceId = workspaceId,
                Name = draft.Name!.Trim(),
                ChannelId = draft.ChannelId!,
                Ordinal = workspace.NextAccountOrdinal,
                CreatedAt = now,
                UpdatedAt = now,
            };
            try
            {
                account = await store.AddAccountAsync(workspace with { NextAccountOrdinal = account.Ordinal + 1, UpdatedAt = now }, account, cancellationToken);
                logger.LogInformation("Connected LINE account {AccountId} as ordinal {Ordinal} of workspace {WorkspaceId}", accountId, account.Ordinal, workspaceId);
                await RequestVerificationAsync(workspaceId, accountId, cancellationToken);
                return account;
            }
            catch (Exception e) when (IsConcurrencyConflict(e) && attempt < MaxOrdinalAttempts)
            {
                // Another account was added at the same moment and took this ordinal: read the counter again.
                logger.LogDebug("Ordinal {Ordinal} of workspace {WorkspaceId} was taken concurrently; retrying", account.Ordinal, workspaceId);
            }
            catch
            {
                await DeleteAccountSecretsAsync(account, CancellationToken.None);
                throw;
            }
        }
    }

    public async Task<LineAccount?> UpdateAccountAsync(string workspaceId, string accountId, LineAccountDraft draft, string? ifMatch, CancellationToken cancellationToken)
    {
        // Without If-Match the caller asked for no concurrency check: a background write to the row (a connection check
        // recording its result) between our read and write is read again, not reported as the caller's conflict.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await UpdateAccountOnceAsync(workspaceId, accountId, draft, ifMatch, cancellationToken);
            }
            catch (EditConflictException) when (ifMatch is null && attempt < 3) { }
        }
    }

    private async Task<LineAccount?> UpdateAccountOnceAsync(string workspaceId, string accountId, LineAccountDraft draft, string? ifMatch, CancellationToken cancellationToken)
    {
        var account = await store.GetAccountIfExistsAsync(workspaceId, accountId, cancellationToken);
        if (account is null) return null;
        EditConflictException.ThrowIfStale(account.ETag, ifMatch);

        if (draft.ChannelSecret is not null)
            await secrets.SetAsync(SecretNames.ChannelSecret(workspaceId, accountId), draft.ChannelSecret, cancellationToken);
        if (draft.ChannelAccessToken is not null)
            await secrets.SetAsync(SecretNames.ChannelAccessToken(workspaceId, accountId), draft.ChannelAccessToken, cancellationToken);
        var recheck = draft.ChannelAccessToken is not null || draft.ChannelId is not null;
        account = account with
        {
            Name = draft.Name?.Trim() ?? account.Name,
            ChannelId = draft.ChannelId ?? account.ChannelId,
            TrackOpensAndClicks = draft.TrackOpensAndClicks ?? account.TrackOpensAndClicks,
            Line = recheck ? ConnectionState.Unverified : account.Line,
            UpdatedAt = clock.GetUtcNow(),
        };
        account = await Conflicting(() => store.UpdateAccountAsync(account, cancellationToken));
        if (recheck)
            await RequestVerificationAsync(workspaceId, accountId, cancellationToken);
        return account;
    }

    /// <summary>
    /// Removes the LINE account and everything Lumo holds of it (<see cref="TenantDataErasure"/>). False when there was
    /// none — but even then leftovers of an earlier deletion that was cut short (a crash, a timeout) are erased, so
    /// repeating the request always finishes the job.
    /// </summary>
    public async Task<bool> DeleteAccountAsync(string workspaceId, string accountId, string deletedBy, CancellationToken cancellationToken)
    {
        var account = await store.GetAccountIfExistsAsync(workspaceId, accountId, cancellationToken);
        if (account is not null)
            await store.DeleteAccountAsync(workspaceId, accountId, cancellationToken); // first: processing of its events and sends stops at once
        await erasure.EraseAccountAsync(workspaceId, accountId, deletedBy, recordEvenIfEmpty: account is not null, cancellationToken);
        if (account is not null) logger.LogInformation("Removed LINE account {AccountId} from workspace {WorkspaceId}", accountId, workspaceId);
        return account is not null;
    }

    /// <summary>Queues a check of the workspace's Klaviyo key and its LINE tokens (or of one account only).</summary>
    public Task RequestVerificationAsync(string workspaceId, string? accountId, CancellationToken cancellationToken) =>
        queues.EnqueueAsync(QueueNames.VerifyConnections, new VerifyConnectionsRequest(workspaceId, accountId), cancellationToken);

    private async Task DeleteAccountSecretsAsync(LineAccount account, CancellationToken cancellationToken)
    {
        await secrets.DeleteAsync(SecretNames.ChannelSecret(account.WorkspaceId, account.Id), cancellationToken);
        await secrets.DeleteAsync(SecretNames.ChannelAccessToken(account.WorkspaceId, account.Id), cancellationToken);
    }

    private static Task<T> Conflicting<T>(Func<Task<T>> write) => EditConflictException.OnConcurrentWriteAsync(write);

    // A failed entity-group transaction is a RequestFailedException carrying the failing action's status.
    private static bool IsConcurrencyConflict(Exception e) => e is RequestFailedException { Status: 412 };

    private static string NewId() => Ids.NewLumoId();
}
