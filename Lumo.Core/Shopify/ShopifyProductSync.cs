using System.Text.Json.Nodes;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Shopify;

/// <summary>
/// Brings a store's products into <see cref="ShopifyProductStore"/> with the GraphQL Admin API: first a full sync in
/// pages by id (the cursor is saved after every page, so a restarted sync goes on where it stopped), then incremental
/// passes over products updated since the last pass (with an overlap, and from the full sync's start, so a change
/// made while a pass ran is read by the next), and single products when a webhook says one changed. Pages are sized
/// to the 1,000-point query limit and paced by the store's cost bucket.
/// </summary>
public sealed class ShopifyProductSync(ShopifyConnectionStore connections, ShopifyProductStore products, ShopifyClient shopify, ISecretStore secrets,
    LeaseStore leases, LumoQueues queues, IOptions<ShopifyOptions> options, TimeProvider clock, ILogger<ShopifyProductSync> logger)
{
    /// <summary>60 products × 16 + 2 = 962 points, just under Shopify's 1,000-point maximum for one query.</summary>
    public const int PageSize = 60;
    public static readonly TimeSpan Overlap = TimeSpan.FromMinutes(2);
    private const int PageCost = 2 + PageSize * ShopifyProduct.GraphQLCost;

    /// <summary>How long one invocation runs a full sync before handing over to a queued continuation (settable so tests can force one).</summary>
    public TimeSpan RunBudget { get; set; } = TimeSpan.FromMinutes(8);

    private static readonly string AllQuery = $"query Products($after: String) {{ products(first: {PageSize}, after: $after, sortKey: ID) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {ShopifyProduct.GraphQLFields} }} }} }}";
    private static readonly string ChangedQuery = $"query Changed($after: String, $query: String) {{ products(first: {PageSize}, after: $after, query: $query, sortKey: UPDATED_AT) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {ShopifyProduct.GraphQLFields} }} }} }}";
    private static readonly string OneQuery = $"query One($id: ID!) {{ product(id: $id) {{ {ShopifyProduct.GraphQLFields} }} }}";

    /// <summary>
    /// A full sync (first, or going on with an unfinished one) or an incremental pass; true when products changed, so
    /// the feeds want rebuilding. Nothing when the app is not installed, or another worker is syncing this store.
    /// A continuation names the worker that queued it (<paramref name="handoverFrom"/>) and takes over its lease.
    /// </summary>
    public async Task<bool> SyncAsync(string workspaceId, CancellationToken cancellationToken, string? handoverFrom = null)
    {
        var owner = Guid.NewGuid().ToString("N");
        await using var lease = await leases.HoldAsync("shopify-sync", workspaceId, owner, TimeSpan.FromMinutes(1), cancellationToken, takingOverFrom: handoverFrom);
        if (lease is null)
        {
            // Another worker is syncing this store (or renewed its lease just as its continuation took over). An
            // unfinished full sync must not hang on that worker alone: try again later.
            if (await connections.GetIfExistsAsync(workspaceId, cancellationToken) is { Installed: true, FullSyncDone: false })
                await QueueSyncAsync(workspaceId, null, ShopifyWorkItem.BusyRetryDelay, cancellationToken);
            return false;
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Lost);
        var connection = await connections.GetIfExistsAsync(workspaceId, linked.Token);
        if (connection is not { Installed: true } || await TokenAsync(workspaceId, linked.Token) is not { } token) return false;
        return connection.FullSyncDone
            ? await IncrementalAsync(connection, token, linked.Token)
            : await FullAsync(connection, token, owner, linked.Token);
    }

    private async Task<bool> FullAsync(ShopifyConnection connection, string token, string owner, CancellationToken cancellationToken)
    {
        if (connection.FullSyncStartedAt is null)
            connection = await connections.SaveAsync(connection with { FullSyncStartedAt = clock.GetUtcNow() }, cancellationToken);
        if (connection.Currency is null)
        {
            var currency = (await shopify.QueryAsync(connection.Shop, token, "{ shop { currencyCode } }", null, 1, cancellationToken))["shop"]?["currencyCode"]?.GetValue<string>();
            connection = await connections.SaveAsync(connection with { Currency = currency }, cancellationToken);
        }
        var cursor = connection.FullSyncCursor;
        var count = connection.Products;
        // A big store takes longer than one invocation may run: past the budget the sync hands over to a queued
        // continuation, which goes on from the saved cursor.
        var deadline = clock.GetUtcNow() + RunBudget;
        while (true)
        {
            var page = (await shopify.QueryAsync(connection.Shop, token, AllQuery, new JsonObject { ["after"] = cursor }, PageCost, cancellationToken))["products"]!;
            var items = Nodes(page);
            await products.WriteFullSyncPageAsync(connection.WorkspaceId, items, cancellationToken);
            count += items.Count;
            var more = page["pageInfo"]!["hasNextPage"]!.GetValue<bool>();
            cursor = page["pageInfo"]!["endCursor"]?.GetValue<string>();
            connection = await connections.SaveAsync(more
                ? connection with { FullSyncCursor = cursor, Products = count }
                : connection with { FullSyncDone = true, FullSyncCursor = null, Products = count, LastError = null },
                cancellationToken);
            if (!more) break;
            if (clock.GetUtcNow() >= deadline)
            {
                // Queued while the store is still held (a crash right after loses nothing), naming this worker so the
                // continuation takes its lease over instead of finding the store busy.
                await QueueSyncAsync(connection.WorkspaceId, owner, null, cancellationToken);
                logger.LogInformation("Shopify store {Shop}: full sync handed over after {Count} products", connection.Shop, count);
                return false;
            }
        }
        logger.LogInformation("Shopify store {Shop} of workspace {WorkspaceId}: full sync done, {Count} products", connection.Shop, connection.WorkspaceId, count);
        // What changed while the full sync ran is read by an incremental pass from its start.
        await IncrementalAsync(connection, token, cancellationToken);
        return true;
    }

    private async Task<bool> IncrementalAsync(ShopifyConnection connection, string token, CancellationToken cancellationToken)
    {
        var startedAt = clock.GetUtcNow();
        // Right after a full sync: from its start (SyncedUpTo is set only once this catch-up pass is done).
        var since = (connection.SyncedUpTo ?? connection.FullSyncStartedAt ?? connection.InstalledAt) - Overlap;
        var search = $"updated_at:>='{since.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}'";
        string? cursor = null;
        var changed = 0;
        do
        {
            var page = (await shopify.QueryAsync(connection.Shop, token, ChangedQuery, new JsonObject { ["after"] = cursor, ["query"] = search }, PageCost, cancellationToken))["products"]!;
            foreach (var product in Nodes(page))
                if (await products.WriteIfNewerAsync(connection.WorkspaceId, product, cancellationToken)) changed++;
            cursor = page["pageInfo"]!["hasNextPage"]!.GetValue<bool>() ? page["pageInfo"]!["endCursor"]!.GetValue<string>() : null;
        } while (cursor is not null);
        await connections.SaveAsync(connection with { SyncedUpTo = startedAt, FullSyncStartedAt = null, LastError = null }, cancellationToken);
        if (changed > 0) logger.LogInformation("Shopify store {Shop}: {Changed} products changed since {Since}", connection.Shop, changed, since);
        return changed > 0;
    }

    /// <summary>Reads one product again (a webhook said it changed) and keeps it unless what is stored is newer; a product gone from Shopify is deleted.</summary>
    public async Task<bool> RefreshProductAsync(string workspaceId, long productId, CancellationToken cancellationToken)
    {
        var connection = await connections.GetIfExistsAsync(workspaceId, cancellationToken);
        if (connection is not { Installed: true } || await TokenAsync(workspaceId, cancellationToken) is not { } token) return false;
        var data = await shopify.QueryAsync(connection.Shop, token, OneQuery, new JsonObject { ["id"] = ShopifyProduct.GidOf(productId) }, ShopifyProduct.GraphQLCost, cancellationToken);
        return data["product"] is JsonObject node
            ? await products.WriteIfNewerAsync(workspaceId, ShopifyProduct.FromNode(node), cancellationToken)
            : await products.DeleteAsync(workspaceId, productId, cancellationToken);
    }

    /// <summary>Asks for a feed rebuild in a little while: a burst of product webhooks (a bulk edit) then costs one rebuild.</summary>
    public Task QueueFeedRebuildAsync(string workspaceId, CancellationToken cancellationToken) =>
        queues.EnqueueAsync(QueueNames.ShopifyWork, new ShopifyWorkItem(workspaceId, ShopifyWorkKind.RebuildFeeds, RequestedAt: clock.GetUtcNow()), cancellationToken,
            delay: options.Value.FeedRebuildDelay);

    private Task QueueSyncAsync(string workspaceId, string? handoverFrom, TimeSpan? delay, CancellationToken cancellationToken) =>
        queues.EnqueueAsync(QueueNames.ShopifyWork, new ShopifyWorkItem(workspaceId, ShopifyWorkKind.SyncProducts, HandoverFrom: handoverFrom), cancellationToken, delay);

    private async Task<string?> TokenAsync(string workspaceId, CancellationToken cancellationToken) =>
        SecretNames.InUse(await secrets.GetIfExistsAsync(SecretNames.ShopifyAccessToken(workspaceId), cancellationToken));

    private static List<ShopifyProduct> Nodes(JsonNode page) => page["nodes"]!.AsArray().OfType<JsonObject>().Select(ShopifyProduct.FromNode).ToList();
}
