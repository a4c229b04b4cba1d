namespace Lumo.Core.Storage;

/// <summary>
/// Logical queue names. They must equal the <c>queueName</c> in the matching function.json, because the
/// Functions host (and the standalone trigger runner) drain exactly those queues.
/// </summary>
public static class QueueNames
{
    public const string VerifyConnections = "verify-connections";
    public const string LineEvents = "line-events";
    public const string KlaviyoEventExport = "klaviyo-event-export";
    public const string KlaviyoProfileSync = "klaviyo-profile-sync";
    public const string LineSends = "line-sends";
    public const string LineUserIdImports = "line-user-id-imports";
    public const string LinkingTokens = "linking-tokens";
    public const string SegmentCounts = "segment-counts";
    public const string Broadcasts = "broadcasts";
    public const string BroadcastChunks = "broadcast-chunks";
    public const string RichMenuSyncs = "rich-menu-syncs";
    public const string ConsentRefreshes = "consent-refreshes";
    public const string KlaviyoPulls = "klaviyo-pulls";
    public const string ShopifyWork = "shopify-work";

    /// <summary>The Functions host moves a message here after <c>maxDequeueCount</c> failed attempts.</summary>
    public static string PoisonOf(string queueName) => queueName + "-poison";
}
