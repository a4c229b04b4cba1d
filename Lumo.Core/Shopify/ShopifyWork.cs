using Lumo.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Shopify;

/// <summary>
/// Carries out a queued <see cref="ShopifyWorkItem"/>, and queues the periodic work (an incremental product pass for
/// every installed store; a new count of sales once an hour). A store whose token Shopify refuses (the app was
/// removed without the webhook reaching Lumo) is marked with the error instead of being retried: reinstalling mends it.
/// </summary>
public sealed class ShopifyWork(ShopifyProductSync sync, ShopifyFeedBuilder feedBuilder, ShopifyProductStore products, ShopifyStoreLifecycle lifecycle,
    ShopifyConnectionStore connections, ShopifyFeedStore feeds, LumoQueues queues, TimeProvider clock, ILogger<ShopifyWork> logger)
{
    public static readonly TimeSpan SalesRecount = TimeSpan.FromHours(1);

    public async Task<string> RunAsync(ShopifyWorkItem item, CancellationToken cancellationToken)
    {
        var ws = item.WorkspaceId;
        try
        {
            switch (item.Kind)
            {
                case ShopifyWorkKind.SyncProducts:
                    if (await sync.SyncAsync(ws, cancellationToken, item.HandoverFrom)) await feedBuilder.RebuildAsync(ws, null, cancellationToken);
                    return "Products synced";
                case ShopifyWorkKind.RefreshProduct:
                    if (await sync.RefreshProductAsync(ws, item.ProductId!.Value, cancellationToken)) await sync.QueueFeedRebuildAsync(ws, cancellationToken);
                    return $"Product {item.ProductId} read again";
                case ShopifyWorkKind.DeleteProduct:
                    if (await products.DeleteAsync(ws, item.ProductId!.Value, cancellationToken)) await sync.QueueFeedRebuildAsync(ws, cancellationToken);
                    return $"Product {item.ProductId} deleted";
                case ShopifyWorkKind.CountSales:
                    if (!await feedBuilder.CountSalesAsync(ws, cancellationToken, item.HandoverFrom)) return "Sales count busy or handed over";
                    await feedBuilder.RebuildAsync(ws, null, cancellationToken);
                    return "Sales counted";
                case ShopifyWorkKind.RebuildFeeds:
                    await feedBuilder.RebuildAsync(ws, item.RequestedAt, cancellationToken);
                    return "Feeds rebuilt";
                case ShopifyWorkKind.Uninstalled when ShopDomain.TryParse(item.Detail, out var uninstalled):
                    await lifecycle.UninstalledAsync(ws, uninstalled, item.TriggeredAt, cancellationToken);
                    return "Uninstalled";
                case ShopifyWorkKind.RedactShop when ShopDomain.TryParse(item.Detail, out var shop):
                    await lifecycle.RedactShopAsync(ws, shop, item.TriggeredAt, cancellationToken);
                    return "Store data deleted";
                case ShopifyWorkKind.CustomerPrivacyRequest:
                    await lifecycle.CustomerRequestAsync(ws, item.Detail ?? "customers request", cancellationToken);
                    return "Privacy request recorded";
                default:
                    return $"Nothing to do for {item.Kind}";
            }
        }
        catch (ShopifyApiException e) when (e.IsAuthenticationFailure)
        {
            // The app was removed without the webhook reaching Lumo: treated as the uninstall (no more calls with a dead token).
            if (await connections.GetIfExistsAsync(ws, CancellationToken.None) is not { } connection) return "Token refused, store gone";
            logger.LogWarning("Shopify refused the token of {Shop} (workspace {WorkspaceId}): {Status}", connection.Shop, ws, e.Status);
            await lifecycle.UninstalledAsync(ws, connection.Shop, null, CancellationToken.None);
            if (await connections.GetIfExistsAsync(ws, CancellationToken.None) is { } uninstalled)
                await connections.SaveAsync(uninstalled with { LastError = "Shopify refused the access token: install the app again." }, CancellationToken.None);
            return "Token refused";
        }
    }

    /// <summary>Queues an incremental pass for every installed store and a count of sales where the last is an hour old.</summary>
    public async Task<int> QueueDueWorkAsync(CancellationToken cancellationToken)
    {
        var installed = await connections.ListInstalledAsync(cancellationToken);
        foreach (var connection in installed)
        {
            await queues.EnqueueAsync(QueueNames.ShopifyWork, new ShopifyWorkItem(connection.WorkspaceId, ShopifyWorkKind.SyncProducts), cancellationToken);
            if ((await feeds.ReadSalesAsync(connection.WorkspaceId, cancellationToken)).CountedAt is not { } counted || clock.GetUtcNow() - counted >= SalesRecount)
                await queues.EnqueueAsync(QueueNames.ShopifyWork, new ShopifyWorkItem(connection.WorkspaceId, ShopifyWorkKind.CountSales), cancellationToken);
        }
        return installed.Count;
    }
}
