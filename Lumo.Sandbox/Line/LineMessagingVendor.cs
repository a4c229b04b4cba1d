using System.Text.Json.Nodes;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Specs;

namespace Lumo.Sandbox.Line;

/// <summary>The LINE Messaging API's auth (channel access token), limits and error shape.</summary>
public sealed class LineMessagingVendor(LineState state) : ISimulatedVendor
{
    // https://developers.line.biz/en/reference/messaging-api/#rate-limits: per channel and per endpoint (method + path),
    // 2,000 requests/s for every endpoint without a limit of its own.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, RateLimit> Standard = new();
    // 2,000/s since 2025-04-23 (it was 200/s).
    private static readonly RateLimit Multicast = new("line:multicast", 2_000);
    private static readonly RateLimit BroadcastOrNarrowcast = new("line:broadcast", 0, PerHour: 60);
    private static readonly RateLimit RichMenuCreateOrDelete = new("line:richmenu-create", 0, PerHour: 100);

    public string Name => "line";
    public bool Owns(PathString path) => path.StartsWithSegments("/v2/bot");
    public SpecDocument? Spec => SpecLibrary.LineMessagingApi;
    public string MediaType => "application/json";

    public string? Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) && state.ChannelsByToken.TryGetValue(header[7..], out var channel)
            ? channel.ChannelId : null;
    }

    public RateLimit? LimitFor(string method, string pathTemplate) => pathTemplate switch
    {
        "/v2/bot/message/multicast" => Multicast,
        "/v2/bot/message/broadcast" or "/v2/bot/message/narrowcast" => BroadcastOrNarrowcast,
        "/v2/bot/richmenu" when method == "POST" => RichMenuCreateOrDelete,
        "/v2/bot/richmenu/{richMenuId}" when method == "DELETE" => RichMenuCreateOrDelete,
        _ => Standard.GetOrAdd($"{method} {pathTemplate}", endpoint => new RateLimit("line:" + endpoint, 2_000)),
    };

    public IResult Error(int status, string message, IReadOnlyList<string>? details = null, TimeSpan? retryAfter = null)
    {
        var body = new JsonObject { ["message"] = message };
        if (details is { Count: > 0 })
            body["details"] = new JsonArray(details.Select(d =>
            {
                var split = d.IndexOf(": ", StringComparison.Ordinal);
                return (JsonNode)new JsonObject { ["message"] = split < 0 ? d : d[(split + 2)..], ["property"] = split < 0 ? "" : d[..split].TrimStart('$', '.') };
            }).ToArray());
        return JsonBodies.Json(body, status, "application/json", retryAfter);
    }
}
