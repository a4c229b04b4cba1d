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
/// </summary>
public sealed class ShopifyStoreLifecycle(ShopifyConnectionStore connections, ShopifyProductStore products, ShopifyFeedStore feeds, ISecretStore secrets,
    TenantDataErasure erasures, TimeProvider clock, ILogger<ShopifyStoreLifecycle> logger)
{
    public async Task UninstalledAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await secrets.SetAsync(SecretNames.ShopifyAccessToken(workspaceId), SecretNames.Cleared, cancellationToken);
        await feeds.DeleteAsync(workspaceId, sales: true, cancellationToken);
        if (await connections.GetIfExistsAsync(workspaceId, cancellationToken) is { Installed: true } connection)
        {
            await connections.SaveAsync(connection with { Installed = false, UninstalledAt = clock.GetUtcNow() }, cancellationToken);
            logger.LogInformation("Shopify app uninstalled from {Shop} (workspace {WorkspaceId}): token and feeds removed", connection.Shop, workspaceId);
        }
    }

    public async Task RedactShopAsync(string workspaceId, ShopDomain shop, CancellationToken cancellationToken)
    {
        await secrets.SetAsync(SecretNames.ShopifyAccessToken(workspaceId), SecretNames.Cleared, cancellationToken);
        var rows = await products.DeleteAllAsync(workspaceId, cancellationToken);
        await feeds.DeleteAsync(workspaceId, sales: true, cancellationToken);
        await connections.DeleteAsync(workspaceId, shop, cancellationToken);
        await erasures.RecordAsync(workspaceId, $"Shopify store {shop} (shop/redact)", rows, "Shopify", cancellationToken);
    }

    public Task CustomerRequestAsync(string workspaceId, string topic, CancellationToken cancellationToken) =>
        erasures.RecordAsync(workspaceId, $"Shopify {topic}: Lumo keeps no Shopify customer data", 0, "Shopify", cancellationToken);
}
