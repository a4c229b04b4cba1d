using Lumo.Core.Connections;
using Lumo.Core.Klaviyo;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Friends;

/// <summary>
/// Pushes one linked friend's LINE properties to its Klaviyo profile at once (profile import). A transient
/// failure is thrown so the queue retries; a refusal is recorded on the friend, where the admin API shows it. A
/// refused credential pauses the workspace's Klaviyo work instead, and a profile deleted in Klaviyo takes the link
/// and the friend's contact details with it.
/// </summary>
public sealed class FriendPropertySync(KlaviyoClient klaviyo, LineFriendStore friends, KlaviyoConnectionHealth health, Privacy.PersonErasure erasure,
    TimeProvider clock, ILogger<FriendPropertySync> logger)
{
    public const string WaitingForReconnect = "waiting: the Klaviyo connection needs reconnecting; written once it works again";

    public async Task<LineFriend> PushAsync(LineFriend friend, LineAccount account, CancellationToken cancellationToken)
    {
        if (!friend.IsLinked) return friend;
        // While the connection is paused the write waits; resuming rewrites every linked friend's properties.
        var (profileGone, error) = await health.IsPausedAsync(friend.WorkspaceId, cancellationToken)
            ? (false, WaitingForReconnect)
            : await WriteAsync(friend, account, cancellationToken);
        if (profileGone)
        {
            // Deleted in Klaviyo (a privacy deletion, say): the link and the contact details that made it go too.
            await erasure.EraseGoneProfileAsync(account, friend.UserId, cancellationToken);
            return await friends.GetIfExistsAsync(friend.WorkspaceId, friend.AccountId, friend.UserId, cancellationToken) ?? friend;
        }
        var syncedAt = clock.GetUtcNow();
        return await friends.UpdateAsync(friend.WorkspaceId, friend.AccountId, friend.UserId,
            f => f with { PropertiesSyncedAt = error is null ? syncedAt : f.PropertiesSyncedAt, PropertiesSyncError = error }, cancellationToken);
    }

    /// <summary>Writes the properties: whether the profile turned out to be gone, and otherwise the error to note on the friend (null: written).</summary>
    private async Task<(bool ProfileGone, string? Error)> WriteAsync(LineFriend friend, LineAccount account, CancellationToken cancellationToken)
    {
        try
        {
            await klaviyo.ImportProfileAsync(friend.WorkspaceId,
                new KlaviyoProfileUpsert(friend.KlaviyoProfileId, null, null, FriendProperties.For(friend, account)), cancellationToken);
            return (false, null);
        }
        catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
        {
            await health.PauseIfRefusedAsync(friend.WorkspaceId, "LINE property write", e, cancellationToken);
            return (false, WaitingForReconnect);
        }
        catch (KlaviyoApiException e) when (e.Status == 404)
        {
            logger.LogWarning("Klaviyo profile {ProfileId} no longer exists; unlinking LINE user {UserId}", friend.KlaviyoProfileId, friend.UserId);
            return (true, null);
        }
        catch (KlaviyoApiException e) when (!e.IsTransient)
        {
            logger.LogWarning("Klaviyo refused the LINE properties of profile {ProfileId}: {Status} {Code}", friend.KlaviyoProfileId, e.Status, e.Code);
            return (false, $"Klaviyo answered {e.Status} {e.Code}: {e.Message}");
        }
    }
}
