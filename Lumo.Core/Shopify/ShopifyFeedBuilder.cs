using System.Text.Json.Nodes;
using Lumo.Core.ProductCards;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Shopify;

/// <summary>
/// Builds the three feeds a card can show from the synced products, precomputed so that a send reads one row:
/// <b>best sellers</b> by units sold in the configured window (counted from orders, cancelled and test orders left
/// out), <b>newest</b> by Online Store publish date, and <b>on sale</b> (compare-at price above price) by discount.
/// Every feed shows only products that are active, published to the Online Store and have a variant for sale; a
/// store with no sales has an empty best-sellers feed, and cards then show their fallback products.
/// </summary>
public sealed class ShopifyFeedBuilder(ShopifyConnectionStore connections, ShopifyProductStore products, ShopifyFeedStore feeds, ShopifyClient shopify,
    ISecretStore secrets, LeaseStore leases, LumoQueues queues, IOptions<ShopifyOptions> options, TimeProvider clock, ILogger<ShopifyFeedBuilder> logger)
{
    public const int FeedSize = ProductCard.MaxProductsLimit;
    /// <summary>Sales are kept for this many products: enough that ten remain after leaving out those a feed may not show.</summary>
    public const int SalesKept = 200;
    /// <summary>
    /// 10 orders × (1 + 45 line items × 2) + 2 = 912 points. An order with more than 45 lines counts its first 45
    /// (a connection inside a paged connection cannot be paged on here; such carts are rare in the stores Lumo serves).
    /// </summary>
    private const int OrdersPageCost = 912;
    private const string OrdersQuery = "query Orders($after: String, $query: String) { orders(first: 10, after: $after, query: $query, sortKey: ID) { pageInfo { hasNextPage endCursor } nodes { cancelledAt test lineItems(first: 45) { nodes { currentQuantity product { id } } } } } }";

    /// <summary>How long one invocation counts before handing over (settable so tests can force a hand-over).</summary>
    public TimeSpan RunBudget { get; set; } = TimeSpan.FromMinutes(8);
    private const int PagesBetweenSaves = 50;

    /// <summary>
    /// Counts units sold per product in the window from the store's orders (units still in the order: refunds and
    /// removals left out) and keeps the best <see cref="SalesKept"/>; true when the count is done. One count per store
    /// at a time (a lease; a second request finds it busy and leaves it). A long count saves where it is every few
    /// pages and after <see cref="RunBudget"/> hands over to a queued continuation (<paramref name="handoverFrom"/>,
    /// the worker that queued it), which takes its lease over and goes on from there, or does nothing when the count is
    /// done by then.
    /// </summary>
    public async Task<bool> CountSalesAsync(string workspaceId, CancellationToken cancellationToken, string? handoverFrom = null)
    {
        var owner = Guid.NewGuid().ToString("N");
        await using var lease = await leases.HoldAsync("shopify-sales", workspaceId, owner, TimeSpan.FromMinutes(1), cancellationToken, takingOverFrom: handoverFrom);
        if (lease is null)
        {
            // A continuation that finds the store still held (its worker renewed the lease just as it took over, or
            // another count is at work) tries again: dropped, the count would wait for the hourly recount.
            if (handoverFrom is not null)
                await queues.EnqueueAsync(QueueNames.ShopifyWork, new ShopifyWorkItem(workspaceId, ShopifyWorkKind.CountSales, HandoverFrom: handoverFrom), cancellationToken, ShopifyWorkItem.BusyRetryDelay);
            return false;
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Lost);
        var ct = linked.Token;
        var connection = await connections.GetIfExistsAsync(workspaceId, ct);
        if (connection is not { Installed: true } || SecretNames.InUse(await secrets.GetIfExistsAsync(SecretNames.ShopifyAccessToken(workspaceId), ct)) is not { } token) return false;
        var progress = await feeds.ReadSalesProgressAsync(workspaceId, ct);
        if (progress is null && handoverFrom is not null) return false; // the count it was to go on with is done
        var countedAt = progress?.CountedAt ?? clock.GetUtcNow();
        // One entry per product sold in the window: bounded by the catalogue, not by the number of orders.
        var units = progress?.Units ?? new Dictionary<long, long>();
        var cursor = progress?.Cursor;
        var search = $"created_at:>='{(countedAt - options.Value.BestSellersWindow).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}'";
        var deadline = clock.GetUtcNow() + RunBudget;
        for (var pages = 1; ; pages++)
        {
            var page = (await shopify.QueryAsync(connection.Shop, token, OrdersQuery, new JsonObject { ["after"] = cursor, ["query"] = search }, OrdersPageCost, ct))["orders"]!;
            foreach (var order in page["nodes"]!.AsArray().OfType<JsonObject>())
            {
                if (order["cancelledAt"] is not null || order["test"]?.GetValue<bool>() == true) continue;
                foreach (var item in order["lineItems"]!["nodes"]!.AsArray().OfType<JsonObject>())
                    if (item["product"]?["id"]?.GetValue<string>() is { } gid) // null: a custom item, or a product deleted since
                        units[ShopifyProduct.IdOf(gid)] = units.GetValueOrDefault(ShopifyProduct.IdOf(gid)) + (item["currentQuantity"]?.GetValue<long>() ?? 0);
            }
            cursor = page["pageInfo"]!["hasNextPage"]!.GetValue<bool>() ? page["pageInfo"]!["endCursor"]!.GetValue<string>() : null;
            if (cursor is null) break;
            var outOfTime = clock.GetUtcNow() >= deadline;
            if (outOfTime || pages % PagesBetweenSaves == 0) await feeds.SaveSalesProgressAsync(workspaceId, cursor, countedAt, units, ct);
            if (outOfTime)
            {
                await queues.EnqueueAsync(QueueNames.ShopifyWork, new ShopifyWorkItem(workspaceId, ShopifyWorkKind.CountSales, HandoverFrom: owner), ct);
                return false;
            }
        }
        var best = units.OrderByDescending(u => u.Value).ThenBy(u => u.Key).Take(SalesKept).Select(u => (u.Key, u.Value)).ToList();
        await feeds.SaveSalesAsync(workspaceId, best, countedAt, ct);
        logger.LogInformation("Shopify store {Shop}: {Products} products sold since {Since}", connection.Shop, units.Count, countedAt - options.Value.BestSellersWindow);
        return true;
    }

    /// <summary>Rebuilds the feeds from the stored products in one pass (memory: the three top lists); nothing when a build started at or after <paramref name="requestedAt"/>.</summary>
    public async Task RebuildAsync(string workspaceId, DateTimeOffset? requestedAt, CancellationToken cancellationToken)
    {
        if (requestedAt is { } asked && await feeds.BuiltAtAsync(workspaceId, cancellationToken) is { } built && built >= asked) return;
        var connection = await connections.GetIfExistsAsync(workspaceId, cancellationToken);
        if (connection is not { Installed: true }) return;
        var startedAt = clock.GetUtcNow();
        var sold = (await feeds.ReadSalesAsync(workspaceId, cancellationToken)).Best.ToDictionary(s => s.ProductId, s => s.Units);
        var newest = new TopList<DateTimeOffset>(FeedSize);
        var onSale = new TopList<decimal>(FeedSize);
        var bestSellers = new TopList<long>(FeedSize);
        var count = 0;
        await foreach (var product in products.ScanAsync(workspaceId, cancellationToken))
        {
            count++;
            if (!product.Eligible) continue;
            newest.Add(product, product.PublishedAt ?? default);
            if (product.OnSale) onSale.Add(product, 1 - product.Price!.Value / product.CompareAtPrice!.Value);
            if (sold.TryGetValue(product.Id, out var units)) bestSellers.Add(product, units);
        }
        await feeds.SaveAsync(workspaceId, ProductFeed.BestSellers, bestSellers.Best(), connection.Currency, startedAt, cancellationToken);
        await feeds.SaveAsync(workspaceId, ProductFeed.OnSale, onSale.Best(), connection.Currency, startedAt, cancellationToken);
        // Newest last: its BuiltAt says a whole build is done (see the skip above).
        await feeds.SaveAsync(workspaceId, ProductFeed.Newest, newest.Best(), connection.Currency, startedAt, cancellationToken);
        // An uninstall while this ran has deleted the feeds before these writes: take them away again.
        if (await connections.GetIfExistsAsync(workspaceId, cancellationToken) is not { Installed: true } now || now.Shop != connection.Shop)
        {
            await feeds.DeleteAsync(workspaceId, sales: true, cancellationToken);
            return;
        }
        var purged = await products.PurgeTombstonesAsync(workspaceId, cancellationToken);
        logger.LogInformation("Shopify feeds of workspace {WorkspaceId} rebuilt from {Count} products ({Purged} old tombstones removed)", workspaceId, count, purged);
    }

    /// <summary>The <c>size</c> products with the highest keys (ties: lower id first), in order.</summary>
    private sealed class TopList<TKey>(int size) where TKey : IComparable<TKey>
    {
        private readonly PriorityQueue<ShopifyProduct, (TKey Key, long NegativeId)> _heap = new();

        public void Add(ShopifyProduct product, TKey key)
        {
            var priority = (key, -product.Id);
            if (_heap.Count < size) _heap.Enqueue(product, priority);
            else if (_heap.TryPeek(out _, out var lowest) && Compare(priority, lowest) > 0) _heap.EnqueueDequeue(product, priority);
        }

        public IEnumerable<ShopifyProduct> Best() =>
            _heap.UnorderedItems.OrderByDescending(i => i.Priority.Key).ThenBy(i => -i.Priority.NegativeId).Select(i => i.Element).ToList();

        private static int Compare((TKey Key, long NegativeId) a, (TKey Key, long NegativeId) b) =>
            a.Key.CompareTo(b.Key) is var byKey && byKey != 0 ? byKey : a.NegativeId.CompareTo(b.NegativeId);
    }
}
