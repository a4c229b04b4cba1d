namespace Lumo.Core.Shopify;

public enum ShopifyWorkKind { SyncProducts, RefreshProduct, DeleteProduct, CountSales, RebuildFeeds, Uninstalled, RedactShop, CustomerPrivacyRequest }

/// <summary>
/// Queue <c>shopify-work</c>: one piece of a workspace's Shopify work. Webhooks become items (Shopify wants an answer
/// within 5 seconds); every kind is idempotent, so Shopify's retries of a webhook and the queue's own retries change nothing twice.
/// </summary>
/// <param name="WorkspaceId">The workspace whose store it concerns.</param>
/// <param name="Kind">What to do.</param>
/// <param name="ProductId">The product a webhook named, for <see cref="ShopifyWorkKind.RefreshProduct"/> and <see cref="ShopifyWorkKind.DeleteProduct"/>.</param>
/// <param name="RequestedAt">When asked for: a feed rebuild that started later already covers it.</param>
/// <param name="Detail">The compliance topic of a <see cref="ShopifyWorkKind.CustomerPrivacyRequest"/>; the store of an uninstall or redact.</param>
/// <param name="TriggeredAt">When Shopify raised the webhook (<c>X-Shopify-Triggered-At</c>): an uninstall raised before the store's current install is stale.</param>
/// <param name="HandoverFrom">The worker that queued this continuation of a full sync or a sales count, whose lease on the store it takes over.</param>
public sealed record ShopifyWorkItem(string WorkspaceId, ShopifyWorkKind Kind, long? ProductId = null, DateTimeOffset? RequestedAt = null, string? Detail = null,
    DateTimeOffset? TriggeredAt = null, string? HandoverFrom = null)
{
    /// <summary>How long a continuation that found its store still held waits before it tries again.</summary>
    public static readonly TimeSpan BusyRetryDelay = TimeSpan.FromSeconds(10);
}
