using Lumo.Core.Workspaces;

namespace Lumo.Core.Friends;

/// <summary>
/// The six LINE properties Lumo writes on a linked Klaviyo profile (DESIGN §4), under the account's names
/// (" N" suffix for the Nth account). Only these keys are sent, so nothing else on the profile changes.
/// </summary>
public static class FriendProperties
{
    /// <summary>The properties to write for the friend, without <c>LINE Display Name</c> when the account's sync rules turned it off.</summary>
    public static Dictionary<string, object?> For(LineFriend friend, LineAccount account)
    {
        var names = account.PropertyNames;
        var properties = new Dictionary<string, object?> { [names.UserId] = friend.UserId };
        if (friend.DisplayName is not null && account.SyncDisplayName) properties[names.DisplayName] = friend.DisplayName;
        if (friend.FollowStatus != FollowStatus.Unknown) properties[names.FollowStatus] = friend.FollowStatus == FollowStatus.Friend ? "friend" : "blocked";
        if (friend.Consent != Consent.Unknown) properties[names.Consent] = friend.Consent == Consent.Granted ? "granted" : "withdrawn";
        if (friend.ConsentUpdatedAt is { } at) properties[names.ConsentUpdatedAt] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ");
        if (friend.ConsentSource is not null) properties[names.ConsentSource] = friend.ConsentSource;
        return properties;
    }

    /// <summary>Where a consent change came from, as merchants see it on the profile: the LINE account's ID.</summary>
    public static string ConsentSource(LineAccount account, string how) => $"LINE {account.BasicId ?? account.ChannelId} ({how})";
}
