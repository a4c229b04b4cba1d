using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Lumo.Core.LineWebhooks;

/// <summary>
/// One event of a LINE webhook body (https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects),
/// with the fields Lumo acts on and the raw JSON for the rest. Unknown types are kept, not rejected: LINE adds
/// event types without notice.
/// </summary>
public sealed record LineWebhookEvent(JsonObject Raw)
{
    public string Type => Raw["type"]?.GetValue<string>() ?? "unknown";

    /// <summary>LINE's id of the event, the same on every redelivery; a content hash for the rare event without one.</summary>
    public string WebhookEventId => Raw["webhookEventId"]?.GetValue<string>()
        ?? Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Raw.ToJsonString())))[..32];

    public DateTimeOffset Timestamp => Raw["timestamp"]?.GetValue<long>() is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.UnixEpoch;
    /// <summary>The LINE user who caused the event (also set for users acting in groups and rooms).</summary>
    public string? UserId => Raw["source"]?["userId"]?.GetValue<string>();
    public bool IsRedelivery => Raw["deliveryContext"]?["isRedelivery"]?.GetValue<bool>() ?? false;
    /// <summary>follow events: true when a user who had blocked the account unblocked it (a re-follow).</summary>
    public bool IsUnblocked => Raw["follow"]?["isUnblocked"]?.GetValue<bool>() ?? false;
}
