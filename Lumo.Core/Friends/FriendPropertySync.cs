using Lumo.Core.Connections;
using Lumo.Core.Klaviyo;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Friends;

/// <summary>
/// Pushes one linked friend's LINE properties to its Klaviyo profile at once (profile import). A transient
/// failure is thrown so the queue retries; a refusal (the profile was deleted in Klaviyo, say) is recorded on the
/// friend, where the admin API shows it. A refused credential pauses the workspace's Klaviyo work instead.
/// </summary>
public sealed class FriendPropertySync(KlaviyoClient klaviyo, LineFriendStore friends, KlaviyoConnectionHealth health, TimeProvider clock, ILogger<FriendPropertySync> logger)
{
    public const string WaitingForReconnect = "waiting: the Klaviyo connection needs reconnecting; written once it works again";

    public async Task<LineFriend> PushAsync(LineFriend friend, LineAccount account, CancellationToken cancellationToken)
    {
        if (!friend.IsLinked) return friend;
        // While the connection is paused the write waits; resuming rewrites every linked friend's properties.
        var error = await health.IsPausedAsync(friend.WorkspaceId, cancellationToken) ? WaitingForReconnect : null;
        if (error is null) error = await WriteAsync(friend, account, cancellationToken);
        var syncedAt = clock.GetUtcNow();
        return await friends.UpdateAsync(friend.WorkspaceId, friend.AccountId, friend.UserId,
            f => f with { PropertiesSyncedAt = error is null ? syncedAt : f.PropertiesSyncedAt, PropertiesSyncError = error }, cancellationToken);
    }

    private async Task<string?> WriteAsync(LineFriend friend, LineAccount account, CancellationToken cancellationToken)
    {
        try
        {
            await klaviyo.ImportProfileAsync(friend.WorkspaceId,
                new KlaviyoProfileUpsert(friend.KlaviyoProfileId, null, null, FriendProperties.For(friend, account.PropertyNames)), cancellationToken);
        }
        catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
        {
            await health.PauseIfRefusedAsync(friend.WorkspaceId, "LINE property write", e, cancellationToken);
            return WaitingForReconnect;
        }
        catch (KlaviyoApiException e) when (!e.IsTransient)
        {
            logger.LogWarning("Klaviyo refused the LINE properties of profile {ProfileId}: {Status} {Code}", friend.KlaviyoProfileId, e.Status, e.Code);
            return $"Klaviyo answered {e.Status} {e.Code}: {e.Message}";
        }
        return null;
    }
}
