using Lumo.Core.Klaviyo;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Friends;

/// <summary>
/// Pushes one linked friend's LINE properties to its Klaviyo profile at once (profile import). A transient
/// failure is thrown so the queue retries; a refusal (the profile was deleted in Klaviyo, say) is recorded on the
/// friend, where the admin API shows it.
/// </summary>
public sealed class FriendPropertySync(KlaviyoClient klaviyo, LineFriendStore friends, TimeProvider clock, ILogger<FriendPropertySync> logger)
{
    public async Task<LineFriend> PushAsync(LineFriend friend, LineAccount account, CancellationToken cancellationToken)
    {
        if (!friend.IsLinked) return friend;
        string? error = null;
        try
        {
            await klaviyo.ImportProfileAsync(friend.WorkspaceId,
                new KlaviyoProfileUpsert(friend.KlaviyoProfileId, null, null, FriendProperties.For(friend, account.PropertyNames)), cancellationToken);
        }
        catch (KlaviyoApiException e) when (!e.IsTransient)
        {
            logger.LogWarning("Klaviyo refused the LINE properties of profile {ProfileId}: {Status} {Code}", friend.KlaviyoProfileId, e.Status, e.Code);
            error = $"Klaviyo answered {e.Status} {e.Code}: {e.Message}";
        }
        var syncedAt = clock.GetUtcNow();
        return await friends.UpdateAsync(friend.WorkspaceId, friend.AccountId, friend.UserId,
            f => f with { PropertiesSyncedAt = error is null ? syncedAt : f.PropertiesSyncedAt, PropertiesSyncError = error }, cancellationToken);
    }
}
