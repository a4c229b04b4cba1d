using System.Text.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Shopify;

public enum ShopifyWebhookOutcome { Accepted, BadSignature, UnknownShop, Malformed }

/// <summary>
/// Webhooks of the Lumo app (https://shopify.dev/docs/apps/build/webhooks): the signature of the raw body is checked
/// first, then the store must be one a workspace installed; the work is queued, since Shopify wants an answer within
/// five seconds. Compliance webhooks for a store Lumo no longer knows are answered 200: there is nothing to do.
/// </summary>
public sealed class ShopifyWebhookIntake(ShopifyConnectionStore connections, LumoQueues queues, IOptions<ShopifyOptions> options, TimeProvider clock,
    ILogger<ShopifyWebhookIntake> logger)
{
    public static readonly IReadOnlySet<string> ComplianceTopics = new HashSet<string> { "customers/data_request", "customers/redact", "shop/redact" };
    private static readonly IReadOnlySet<string> SubscribedTopics =
        new HashSet<string>(ComplianceTopics) { "products/create", "products/update", "products/delete", "app/uninstalled" };

    public async Task<ShopifyWebhookOutcome> AcceptAsync(byte[] body, string? signature, string? topic, string? shopDomain, string? triggeredAt,
        CancellationToken cancellationToken)
    {
        if (!options.Value.Configured || !ShopifySignatures.IsValidBody(body, signature, options.Value.ClientSecret!)) return ShopifyWebhookOutcome.BadSignature;
        if (!ShopDomain.TryParse(shopDomain, out var shop) || string.IsNullOrEmpty(topic)) return ShopifyWebhookOutcome.Malformed;
        JsonObject? payload;
        try { payload = JsonNode.Parse(body) as JsonObject; }
        catch (JsonException) { payload = null; }
        if (payload is null) return ShopifyWebhookOutcome.Malformed;

        var workspaceId = await connections.WorkspaceOfAsync(shop, cancellationToken);
        if (workspaceId is null)
        {
            if (ComplianceTopics.Contains(topic)) return ShopifyWebhookOutcome.Accepted;
            logger.LogWarning("Shopify webhook {Topic} for {Shop}, which no workspace has installed", topic, shop);
            return ShopifyWebhookOutcome.UnknownShop;
        }
        if (!SubscribedTopics.Contains(topic))
        {
            logger.LogInformation("Shopify webhook {Topic} for {Shop} ignored: Lumo does not subscribe to it", topic, shop);
            return ShopifyWebhookOutcome.Accepted;
        }
        DateTimeOffset? raised = DateTimeOffset.TryParse(triggeredAt, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            ? at : null;
        long? productId = payload["id"] is JsonValue id && id.TryGetValue<long>(out var n) ? n : null;
        ShopifyWorkItem? work = topic switch
        {
            "products/create" or "products/update" when productId is not null => new(workspaceId, ShopifyWorkKind.RefreshProduct, productId),
            "products/delete" when productId is not null => new(workspaceId, ShopifyWorkKind.DeleteProduct, productId),
            "app/uninstalled" => new(workspaceId, ShopifyWorkKind.Uninstalled, Detail: shop.Value, TriggeredAt: raised),
            "shop/redact" => new(workspaceId, ShopifyWorkKind.RedactShop, Detail: shop.Value, TriggeredAt: raised),
            "customers/data_request" or "customers/redact" => new(workspaceId, ShopifyWorkKind.CustomerPrivacyRequest, Detail: topic),
            _ => null, // a product webhook without a product id
        };
        if (work is null) return ShopifyWebhookOutcome.Malformed;
        await queues.EnqueueAsync(QueueNames.ShopifyWork, work with { RequestedAt = clock.GetUtcNow() }, cancellationToken);
        return ShopifyWebhookOutcome.Accepted;
    }
}
