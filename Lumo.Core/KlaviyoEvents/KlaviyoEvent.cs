using System.Text.Json.Nodes;

namespace Lumo.Core.KlaviyoEvents;

/// <summary>
/// An event for a linked Klaviyo profile. <see cref="UniqueId"/> is deterministic (derived from what happened,
/// e.g. LINE's webhookEventId), so that Klaviyo records it once however often it is sent
/// (https://developers.klaviyo.com/en/reference/create_event: "only the first processed event will be recorded").
/// </summary>
public sealed record KlaviyoEvent(string WorkspaceId, string ProfileId, string Metric, string UniqueId, DateTimeOffset Time, JsonObject Properties);

/// <summary>The metric names merchants build flows and segments on (DESIGN §4).</summary>
public static class KlaviyoMetrics
{
    public const string SentLineMessage = "Sent LINE Message";
    public const string DeliveredLineMessage = "Delivered LINE Message";
    public const string FailedLineMessage = "Failed LINE Message";
    public const string OpenedLineMessage = "Opened LINE Message";
    public const string ClickedLineMessage = "Clicked LINE Message";
    public const string FollowedLineAccount = "Followed LINE Account";
    public const string BlockedLineAccount = "Blocked LINE Account";
    public const string ScannedLineQrCode = "Scanned LINE QR Code";
    public const string LinkedLineIdentity = "Linked LINE Identity";
}
