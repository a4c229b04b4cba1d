using System.Text.Json.Nodes;
using Lumo.Core.ProductCards;
using Lumo.Core.Secrets;
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
    ISecretStore secrets, IOptions<ShopifyOptions> options, TimeProvider clock, ILogger<ShopifyFeedBuilder> logger)
{
    public const int FeedSize = ProductCard.MaxProductsLimit;
    /// <summary>Sales are kept for this many products: enough that ten remain after leaving out those a feed may not show.</summary>
    public const int SalesKept = 200;
    /// <summary>20 orders × (1 + 20 line items × 2) + 2 = 862 points.</summary>
    private const int OrdersPageCost = 862;
    private const string OrdersQuery = "query Orders($after: String, $query: String) { orders(first: 20, after: $after, query: $query, sortKey: ID) { pageInfo { hasNextPage endCursor } nodes { cancelledAt test lineItems(first: 20) { nodes { quantity product { id } } } } } }";

    /// <summary>Counts units sold per product in the window from the store's orders and keeps the best <see cref="SalesKept"/>.</summary>
    public async Task CountSalesAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var connection = await connections.GetIfExistsAsync(workspaceId, cancellationToken);
        if (connection is not { Installed: true } || SecretNames.InUse(await secrets.GetIfExistsAsync(SecretNames.ShopifyAccessToken(workspaceId), cancellationToken)) is not { } token) return;
        var countedAt = clock.GetUtcNow();
        var search = $"created_at:>='{(countedAt - options.Value.BestSellersWindow).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}'";
        // One entry per product sold in the window: bounded by the catalogue, not by the number of orders.
        var units = new Dictionary<long, long>();
        string? cursor = null;
        do
        {
            var page = (await shopify.QueryAsync(connection.Shop, token, OrdersQuery, new JsonObject { ["after"] = cursor, ["query"] = search }, OrdersPageCost, cancellationToken))["orders"]!;
            foreach (var order in page["nodes"]!.AsArray().OfType<JsonObject>())
            {
                if (order["cancelledAt"] is not null || order["test"]?.GetValue<bool>() == true) continue;
                foreach (var item in order["lineItems"]!["nodes"]!.AsArray().OfType<JsonObject>())
                    if (item["product"]?["id"]?.GetValue<string>() is { } gid) // null: a custom item, or a product deleted since
                        units[ShopifyProduct.IdOf(gid)] = units.GetValueOrDefault(ShopifyProduct.IdOf(gid)) + item["quantity"]!.GetValue<long>();
            }
            cursor = page["pageInfo"]!["hasNextPage"]!.GetValue<bool>() ? page["pageInfo"]!["endCursor"]!.GetValue<string>() : null;
        } while (cursor is not null);
        var best = units.OrderByDescending(u => u.Value).ThenBy(u => u.Key).Take(SalesKept).Select(u => (u.Key, u.Value)).ToList();
        await feeds.SaveSalesAsync(workspaceId, best, countedAt, cancellationToken);
        logger.LogInformation("Shopify store {Shop}: {Products} products sold since {Since}", connection.Shop, units.Count, countedAt - options.Value.BestSellersWindow);
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
        logger.LogInformation("Shopify feeds of workspace {WorkspaceId} rebuilt from {Count} products", workspaceId, count);
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
