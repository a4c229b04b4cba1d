using Lumo.Core.Line;
using Lumo.Core.Workspaces;

namespace Lumo.Core.Friends;

/// <summary>
/// A LINE user as this account knows them, asking LINE when Lumo does not know: users who followed before Lumo was
/// connected, or whose follow webhook is still on its way, are stored as friends once LINE's profile API (which
/// answers only for friends) confirms them.
/// </summary>
public sealed class LineFriendLookup(LineFriendStore friends, LineMessagingClient line)
{
    /// <summary>The stored friend, brought up to date when its follow status was unknown; null when LINE does not know them as a friend either.</summary>
    public async Task<LineFriend?> FindAsync(LineAccount account, string userId, CancellationToken cancellationToken)
    {
        var friend = await friends.GetIfExistsAsync(account.WorkspaceId, account.Id, userId, cancellationToken);
        if (friend is { FollowStatus: not FollowStatus.Unknown }) return friend;
        if (await line.GetProfileIfExistsAsync(new LineAccountRef(account.WorkspaceId, account.Id), userId, cancellationToken) is not { } profile) return friend;
        return await friends.UpdateAsync(account.WorkspaceId, account.Id, userId,
            f => f with { DisplayName = profile.DisplayName, FollowStatus = f.FollowStatus == FollowStatus.Unknown ? FollowStatus.Friend : f.FollowStatus }, cancellationToken);
    }
}
