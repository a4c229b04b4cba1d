using Lumo.Core.Privacy;
using Lumo.Core.Secrets;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Shopify;

/// <summary>
/// The mandatory app webhooks (https://shopify.dev/docs/apps/build/privacy-law-compliance): <c>app/uninstalled</c>
/// forgets the token and the feeds at once (cards fall back; products stay for a re-install); <c>shop/redact</c>,
/// which Shopify sends 48 hours after an uninstall, deletes everything of the store; <c>customers/data_request</c>
/// and <c>customers/redact</c> are recorded: Lumo reads orders only to count units per product and keeps nothing of
/// any customer, so there is nothing to report or erase. Each is recorded in the erasure log the operator sees.
/// Uninstall and redact act only on the store the workspace has now, and only when Shopify raised them after that
/// store's install: a late webhook from before a re-install, or about a store the workspace has left, changes nothing.
/// </summary>
public sealed class ShopifyStoreLifecycle(ShopifyConnectionStore connections, ShopifyProductStore products, ShopifyFeedStore feeds, ISecretStore secrets,
    TenantDataErasure erasures, TimeProvider clock, ILogger<ShopifyStoreLifecycle> logger)
{
    public async Task UninstalledAsync(string workspaceId, ShopDomain shop, DateTimeOffset? triggeredAt, CancellationToken cancellationToken)
    {
        if (await CurrentAsync(workspaceId, shop, triggeredAt, "app/uninstalled", cancellationToken) is not { Installed: true } connection) return;
        // Not installed first: a feed rebuild under way sees it once it has written, and takes its feeds away again.
        await connections.SaveAsync(connection with { Installed = false, UninstalledAt = clock.GetUtcNow() }, cancellationToken);
        await secrets.SetAsync(SecretNames.ShopifyAccessToken(workspaceId), SecretNames.Cleared, cancellationToken);
        await feeds.DeleteAsync(workspaceId, sales: true, cancellationToken);
        logger.LogInformation("Shopify app uninstalled from {Shop} (workspace {WorkspaceId}): token and feeds removed", shop, workspaceId);
    }

    public async Task RedactShopAsync(string workspaceId, ShopDomain shop, DateTimeOffset? triggeredAt, CancellationToken cancellationToken)
    {
        if (await CurrentAsync(workspaceId, shop, triggeredAt, "shop/redact", cancellationToken) is not { } connection)
        {
            await erasures.RecordAsync(workspaceId, $"Shopify store {shop} (shop/redact): nothing of it kept", 0, "Shopify", cancellationToken);
            return;
        }
        await secrets.SetAsync(SecretNames.ShopifyAccessToken(workspaceId), SecretNames.Cleared, cancellationToken);
        var rows = await ForgetStoreAsync(connection, cancellationToken);
        await connections.DeleteAsync(workspaceId, shop, cancellationToken);
        await erasures.RecordAsync(workspaceId, $"Shopify store {shop} (shop/redact)", rows, "Shopify", cancellationToken);
    }

    /// <summary>Deletes the store's products, feeds and sales counts, and frees the store for any workspace; returns the rows deleted.</summary>
    public async Task<int> ForgetStoreAsync(ShopifyConnection connection, CancellationToken cancellationToken)
    {
        var rows = await products.DeleteAllAsync(connection.WorkspaceId, cancellationToken);
        await feeds.DeleteAsync(connection.WorkspaceId, sales: true, cancellationToken);
        await connections.ReleaseShopAsync(connection.Shop, connection.WorkspaceId, cancellationToken);
        return rows;
    }

    public Task CustomerRequestAsync(string workspaceId, string topic, CancellationToken cancellationToken) =>
        erasures.RecordAsync(workspaceId, $"Shopify {topic}: Lumo keeps no Shopify customer data", 0, "Shopify", cancellationToken);

    private async Task<ShopifyConnection?> CurrentAsync(string workspaceId, ShopDomain shop, DateTimeOffset? triggeredAt, string topic, CancellationToken cancellationToken)
    {
        var connection = await connections.GetIfExistsAsync(workspaceId, cancellationToken);
        if (connection is not null && connection.Shop == shop && (triggeredAt is not { } at || at >= connection.InstalledAt)) return connection;
        logger.LogInformation("Shopify {Topic} for {Shop} (workspace {WorkspaceId}) ignored: raised before the store's current install, or about a store the workspace no longer has",
            topic, shop, workspaceId);
        return null;
    }
}
