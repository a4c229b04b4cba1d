using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Lumo.Sandbox.Line;

/// <summary>
/// A LINE user as the simulated platform knows them. <see cref="DesktopOnly"/>: uses LINE on PC only, so the follower-IDs
/// list leaves them out (it lists users of LINE for iOS and Android), while the profile API knows them.
/// </summary>
public sealed record LineUser(string UserId, string DisplayName, string? PictureUrl = null, string Language = "ja", bool DesktopOnly = false);

/// <summary>A user's relation to one channel: a friend, or a friend who blocked the account.</summary>
public sealed record Friendship(string UserId, bool Blocked);

/// <summary>One push as the simulated LINE received it.</summary>
public sealed record ReceivedPush(string RequestId, string? RetryKey, string To, JsonArray Messages, bool Delivered, DateTimeOffset At);

/// <summary>A Messaging API channel (LINE Official Account) with its friends and everything pushed to them.</summary>
public sealed class LineChannel(string channelId, string channelSecret, string accessToken, string botUserId, string basicId, string displayName)
{
    public string ChannelId { get; } = channelId;
    public string ChannelSecret { get; } = channelSecret;
    public string AccessToken { get; set; } = accessToken;
    public string BotUserId { get; } = botUserId;
    public string BasicId { get; } = basicId;
    public string DisplayName { get; } = displayName;
    public long MonthlyQuota { get; set; } = 1_000_000;
    /// <summary>Whether the account may list its followers (verified and premium accounts only on LINE).</summary>
    public bool FollowerIdsAvailable { get; set; } = true;
    public long MessagesThisMonth;
    /// <summary>Requests that repeated an accepted <c>X-Line-Retry-Key</c> (answered 409, nothing sent).</summary>
    public long RetryKeyRepeats;
    public ConcurrentDictionary<string, Friendship> Friends { get; } = new();
    /// <summary>Follower listings under way, by the id their continuation tokens carry: the followers in user ID order as the first page saw them.</summary>
    public ConcurrentDictionary<string, IReadOnlyList<string>> FollowerListings { get; } = new();
    public ConcurrentQueue<ReceivedPush> Pushes { get; } = new();
    /// <summary>Accepted <c>X-Line-Retry-Key</c>s with the request id they were accepted under and when.</summary>
    public ConcurrentDictionary<Guid, (string RequestId, DateTimeOffset At)> RetryKeys { get; } = new();

    public ConcurrentDictionary<string, SimulatedRichMenu> RichMenus { get; } = new();
    public string? DefaultRichMenuId { get; set; }
    /// <summary>Per-user rich menu links (a user without one sees the default).</summary>
    public ConcurrentDictionary<string, string> UserRichMenus { get; } = new();
    /// <summary>Users whose rich menu link a bulk link or unlink changed (counted per user, repeats included).</summary>
    public long RichMenuUserChanges;

    /// <summary>The rich menu the user sees: their own, else the default.</summary>
    public string? RichMenuOf(string userId) => UserRichMenus.TryGetValue(userId, out var id) ? id : DefaultRichMenuId;

    /// <summary>
    /// Orders the followers LINE would list (not blocked, not LINE-on-PC-only users) for a new listing, named by
    /// <paramref name="listingId"/>; only the latest few listings are kept.
    /// </summary>
    public IReadOnlyList<string> StartFollowerListing(LineState state, out string listingId)
    {
        var ids = Friends.Values.Where(f => !f.Blocked && !(state.Users.TryGetValue(f.UserId, out var user) && user.DesktopOnly))
            .Select(f => f.UserId).Order(StringComparer.Ordinal).ToList();
        var number = Interlocked.Increment(ref _listings);
        FollowerListings[listingId = "l" + number] = ids;
        FollowerListings.TryRemove("l" + (number - 8), out _);
        return ids;
    }

    private long _listings;

    public IEnumerable<ReceivedPush> PushesTo(string userId) => Pushes.Where(p => p.To == userId);
}

/// <summary>The whole simulated LINE platform: users, channels, and LINE Login channels.</summary>
public sealed class LineState
{
    public ConcurrentDictionary<string, LineUser> Users { get; } = new();
    public ConcurrentDictionary<string, LineChannel> ChannelsById { get; } = new();
    public ConcurrentDictionary<string, LineChannel> ChannelsByToken { get; } = new();
    public ConcurrentDictionary<string, LoginChannel> LoginChannels { get; } = new();
    public ConcurrentDictionary<string, LoginGrant> LoginCodes { get; } = new();

    public LineChannel AddChannel(LineChannel channel)
    {
        ChannelsById[channel.ChannelId] = channel;
        ChannelsByToken[channel.AccessToken] = channel;
        return channel;
    }

    public void Reset()
    {
        Users.Clear();
        ChannelsById.Clear();
        ChannelsByToken.Clear();
        LoginChannels.Clear();
        LoginCodes.Clear();
    }
}

/// <summary>A LINE Login channel (for linking) with its secret, which also signs its ID tokens (HS256).</summary>
public sealed record LoginChannel(string ChannelId, string ChannelSecret);

/// <summary>An authorization code issued by the simulated LINE Login.</summary>
public sealed record LoginGrant(string Code, string ChannelId, string UserId, string RedirectUri, string? Nonce, string? CodeChallenge, DateTimeOffset ExpiresAt);
