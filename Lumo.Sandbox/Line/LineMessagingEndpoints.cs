using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lumo.Sandbox.Infrastructure;

namespace Lumo.Sandbox.Line;

/// <summary>
/// The simulated LINE Messaging API: bot info, profiles, push (with retry keys), multicast, broadcast, followers and quota,
/// answering with LINE's status codes (push is 200 even to a user who blocked the account; profile is 404 for
/// non-friends; a repeated retry key is 409 with <c>x-line-accepted-request-id</c>).
/// </summary>
public static partial class LineMessagingEndpoints
{
    private const int MaxTextLength = 5_000;
    private const int MaxAltTextLength = 1_500;
    private static readonly TimeSpan RetryKeyLifetime = TimeSpan.FromHours(24);

    public static IEndpointRouteBuilder MapLineMessagingApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v2/bot/info", GetBotInfo);
        routes.MapGet("/v2/bot/profile/{userId}", GetProfile);
        routes.MapPost("/v2/bot/message/push", Push);
        routes.MapPost("/v2/bot/message/multicast", Multicast);
        routes.MapPost("/v2/bot/message/broadcast", Broadcast);
        routes.MapGet("/v2/bot/followers/ids", GetFollowerIds);
        routes.MapGet("/v2/bot/message/quota", (HttpContext c, LineState s) => Results.Json(new { type = "limited", value = Channel(c, s).MonthlyQuota }));
        routes.MapGet("/v2/bot/message/quota/consumption", (HttpContext c, LineState s) => Results.Json(new { totalUsage = Interlocked.Read(ref Channel(c, s).MessagesThisMonth) }));
        return routes;
    }

    /// <summary>The channel whose access token the request carried.</summary>
    internal static LineChannel Channel(HttpContext context, LineState state) => state.ChannelsById[SandboxItems.CallerOf(context)];

    private static IResult GetBotInfo(HttpContext context, LineState state)
    {
        var channel = Channel(context, state);
        return Results.Json(new { userId = channel.BotUserId, basicId = channel.BasicId, displayName = channel.DisplayName, chatMode = "bot", markAsReadMode = "auto" });
    }

    private static IResult GetProfile(string userId, HttpContext context, LineState state, LineMessagingVendor vendor)
    {
        var channel = Channel(context, state);
        if (!channel.Friends.TryGetValue(userId, out var friendship) || friendship.Blocked || !state.Users.TryGetValue(userId, out var user))
            return vendor.Error(404, "Not found");
        var profile = new JsonObject { ["userId"] = user.UserId, ["displayName"] = user.DisplayName, ["language"] = user.Language };
        if (user.PictureUrl is not null) profile["pictureUrl"] = user.PictureUrl; // LINE omits it when there is none
        return Results.Json(profile);
    }

    private static async Task<IResult> Push(HttpContext context, LineState state, LineMessagingVendor vendor)
    {
        var channel = Channel(context, state);
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var to = body["to"]!.GetValue<string>();
        var messages = body["messages"]!.AsArray();
        if (!UserIdPattern().IsMatch(to))
            return vendor.Error(400, "The request body has 1 error(s)", ["to: The property, 'to', in the request body is invalid"]);
        if (CheckMessages(messages) is { } problem)
            return vendor.Error(400, "The request body has 1 error(s)", [problem]);
        return Accept(context, channel, vendor, () =>
        {
            var delivered = channel.Friends.TryGetValue(to, out var f) && !f.Blocked;
            return [(to, delivered)];
        }, messages, ids => new JsonObject
        {
            ["sentMessages"] = new JsonArray(messages.Select(_ => (JsonNode)new JsonObject { ["id"] = NewId(), ["quoteToken"] = Guid.NewGuid().ToString("N") }).ToArray()),
        });
    }

    private static async Task<IResult> Multicast(HttpContext context, LineState state, LineMessagingVendor vendor)
    {
        var channel = Channel(context, state);
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var recipients = body["to"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        var messages = body["messages"]!.AsArray();
        if (recipients.Count is 0 or > 500 || recipients.Any(r => !UserIdPattern().IsMatch(r)))
            return vendor.Error(400, "The request body has 1 error(s)", ["to: between 1 and 500 valid user IDs are required"]);
        if (CheckMessages(messages) is { } problem)
            return vendor.Error(400, "The request body has 1 error(s)", [problem]);
        return Accept(context, channel, vendor,
            () => recipients.Distinct().Select(r => (r, channel.Friends.TryGetValue(r, out var f) && !f.Blocked)).ToList(),
            messages, _ => new JsonObject());
    }

    private static async Task<IResult> Broadcast(HttpContext context, LineState state, LineMessagingVendor vendor)
    {
        var channel = Channel(context, state);
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var messages = body["messages"]!.AsArray();
        if (CheckMessages(messages) is { } problem)
            return vendor.Error(400, "The request body has 1 error(s)", [problem]);
        // Every friend who has not blocked the account; blocked ones are neither sent to nor counted.
        return Accept(context, channel, vendor, () => channel.Friends.Values.Where(f => !f.Blocked).Select(f => (f.UserId, true)).ToList(), messages, _ => new JsonObject());
    }

    // Retry-key handling, quota and recording shared by push, multicast and broadcast.
    private static IResult Accept(HttpContext context, LineChannel channel, LineMessagingVendor vendor,
        Func<List<(string To, bool Delivered)>> recipients, JsonArray messages, Func<string, JsonObject> answer)
    {
        var requestId = Guid.NewGuid().ToString();
        Guid? retryKey = null;
        if (context.Request.Headers.TryGetValue("X-Line-Retry-Key", out var keyHeader))
        {
            if (!Guid.TryParse(keyHeader, out var parsed))
                return vendor.Error(400, "The retry key must be a UUID.");
            retryKey = parsed;
            var now = DateTimeOffset.UtcNow;
            var accepted = channel.RetryKeys.AddOrUpdate(parsed, (requestId, now),
                (_, existing) => now - existing.At > RetryKeyLifetime ? (requestId, now) : existing);
            if (accepted.RequestId != requestId)
            {
                Interlocked.Increment(ref channel.RetryKeyRepeats);
                context.Response.Headers["x-line-accepted-request-id"] = accepted.RequestId;
                context.Response.Headers["x-line-request-id"] = requestId;
                return vendor.Error(409, "The retry key is already accepted");
            }
        }
        var targets = recipients();
        var cost = targets.Count(t => t.Delivered);
        if (Interlocked.Add(ref channel.MessagesThisMonth, cost) > channel.MonthlyQuota)
        {
            Interlocked.Add(ref channel.MessagesThisMonth, -cost);
            if (retryKey is { } key) channel.RetryKeys.TryRemove(key, out _);
            return vendor.Error(429, "You have reached your monthly limit.");
        }
        foreach (var (to, delivered) in targets)
            channel.Pushes.Enqueue(new ReceivedPush(requestId, retryKey?.ToString(), to, (JsonArray)messages.DeepClone(), delivered, DateTimeOffset.UtcNow));
        context.Response.Headers["x-line-request-id"] = requestId;
        return Results.Json(answer(requestId));
    }

    private static string? CheckMessages(JsonArray messages)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i]!;
            if (message["type"]?.GetValue<string>() == "text" && message["text"]?.GetValue<string>() is { Length: > MaxTextLength })
                return $"messages[{i}].text: Length must be between 0 and {MaxTextLength}";
            if (message["altText"]?.GetValue<string>() is { Length: > MaxAltTextLength })
                return $"messages[{i}].altText: Length must be between 0 and {MaxAltTextLength}";
        }
        return null;
    }

    // Only verified and premium accounts may list their followers; the others get 403. The continuation token is
    // opaque to callers (here the position in the ordered list).
    private static IResult GetFollowerIds(HttpContext context, LineState state, LineMessagingVendor vendor, int? limit, string? start)
    {
        var channel = Channel(context, state);
        if (!channel.FollowerIdsAvailable)
            return vendor.Error(403, "Access to this API is not available for your account");
        var page = Math.Clamp(limit ?? 300, 1, 1000);
        // The first page orders the followers once; the continuation token names that listing and where in it the next
        // page starts (ordering every page again would make the sandbox, not LINE, the bound of a long listing).
        IReadOnlyList<string>? ids;
        var offset = 0;
        if (start is null) ids = channel.StartFollowerListing(state, out start);
        else if (start.Split('.') is not [var listing, var at] || !int.TryParse(at, out offset) || offset < 0 || !channel.FollowerListings.TryGetValue(listing, out ids))
            return vendor.Error(400, "Invalid start value");
        else start = listing;
        var result = new JsonObject { ["userIds"] = new JsonArray(ids.Skip(offset).Take(page).Select(i => (JsonNode)i!).ToArray()) };
        if (offset + page < ids.Count) result["next"] = $"{start}.{offset + page}";
        return Results.Json(result);
    }

    private static string NewId() => Random.Shared.NextInt64(100_000_000_000_000, 999_999_999_999_999).ToString();

    [GeneratedRegex("^U[0-9a-f]{32}$")]
    private static partial Regex UserIdPattern();
}
