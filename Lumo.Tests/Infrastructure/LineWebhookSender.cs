using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Lumo.Sandbox.Line;

namespace Lumo.Tests.Infrastructure;

/// <summary>Posts LINE webhook bodies to the app, signed with the channel secret the way LINE signs them.</summary>
public static class LineWebhookSender
{
    public static Task<HttpResponseMessage> PostWebhookAsync(this HttpClient client, string workspaceId, string accountId, LineChannel channel, params JsonObject[] events)
    {
        var body = new JsonObject { ["destination"] = channel.BotUserId, ["events"] = new JsonArray(events.Select(e => (JsonNode)e.DeepClone()).ToArray()) }.ToJsonString();
        return client.PostSignedAsync($"/api/line/webhook/{workspaceId}/{accountId}", Encoding.UTF8.GetBytes(body), channel.ChannelSecret);
    }

    public static Task<HttpResponseMessage> PostSignedAsync(this HttpClient client, string path, byte[] body, string? secret, string? signatureOverride = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        var signature = signatureOverride ?? (secret is null ? null : Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)));
        if (signature is not null) request.Headers.TryAddWithoutValidation("X-Line-Signature", signature);
        return client.SendAsync(request);
    }

    public static JsonObject Follow(string userId, DateTimeOffset at, string? eventId = null, bool unblocked = false, bool redelivery = false) =>
        Event("follow", userId, at, eventId, redelivery, new JsonObject { ["follow"] = new JsonObject { ["isUnblocked"] = unblocked }, ["replyToken"] = "r" + Guid.NewGuid().ToString("N") });

    public static JsonObject Unfollow(string userId, DateTimeOffset at, string? eventId = null) => Event("unfollow", userId, at, eventId, false, []);

    public static JsonObject Event(string type, string userId, DateTimeOffset at, string? eventId, bool redelivery, JsonObject extra)
    {
        var e = new JsonObject
        {
            ["type"] = type,
            ["mode"] = "active",
            ["timestamp"] = at.ToUnixTimeMilliseconds(),
            ["source"] = new JsonObject { ["type"] = "user", ["userId"] = userId },
            ["webhookEventId"] = eventId ?? "01" + Guid.NewGuid().ToString("N")[..24].ToUpperInvariant(),
            ["deliveryContext"] = new JsonObject { ["isRedelivery"] = redelivery },
        };
        foreach (var (key, value) in extra) e[key] = value?.DeepClone();
        return e;
    }
}
