using Lumo.Core.Line;
using Lumo.Core.Workspaces;

namespace Lumo.Core.Friends;

/// <summary>
/// A LINE user as this account knows them, asking LINE when Lumo does not know: users who followed before Lumo was
/// connected, or whose follow webhook is still on its way, are stored as friends once LINE's profile API (which
/// answers only for friends who have not blocked the account) confirms them — with consent granted, since being a
/// friend is the consent, and the source saying it was LINE's confirmation. A consent already known is not touched.
/// </summary>
public sealed class LineFriendLookup(LineFriendStore friends, LineMessagingClient line, TimeProvider clock)
{
    public const string ConfirmedHow = "friendship confirmed by LINE";

    /// <summary>The stored friend, brought up to date when its follow status or consent was unknown; null when LINE does not know them as a friend either.</summary>
    public async Task<LineFriend?> FindAsync(LineAccount account, string userId, CancellationToken cancellationToken)
    {
        var friend = await friends.GetIfExistsAsync(account.WorkspaceId, account.Id, userId, cancellationToken);
        // Friends stored before this rule (follow status known, consent not) are confirmed again too.
        if (friend is { FollowStatus: not FollowStatus.Unknown, Consent: not Consent.Unknown }) return friend;
        if (await line.GetProfileIfExistsAsync(new LineAccountRef(account.WorkspaceId, account.Id), userId, cancellationToken) is not { } profile) return friend;
        var now = clock.GetUtcNow();
        return await friends.UpdateAsync(account.WorkspaceId, account.Id, userId, f => f.Consent != Consent.Unknown
            ? f with { DisplayName = profile.DisplayName, FollowStatus = f.FollowStatus == FollowStatus.Unknown ? FollowStatus.Friend : f.FollowStatus }
            : f with
            {
                DisplayName = profile.DisplayName, FollowStatus = FollowStatus.Friend, Consent = Consent.Granted, ConsentUpdatedAt = now,
                ConsentSource = FriendProperties.ConsentSource(account, ConfirmedHow),
            }, cancellationToken);
    }
}
