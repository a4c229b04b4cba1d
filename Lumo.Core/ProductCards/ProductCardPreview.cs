using System.Text.Json.Nodes;
using Lumo.Core.AutoSendMessages;

namespace Lumo.Core.ProductCards;

/// <summary>What an Auto Send Message would send for a given trigger event: the LINE messages, the product count, and what is wrong.</summary>
public sealed record MessagePreview(JsonArray Messages, int Products, bool UsedFallback, IReadOnlyList<string> MissingVariables, Dictionary<string, string[]> Problems);

/// <summary>
/// The admin's view of a product card before any Flow runs: renders an Auto Send Message for a Klaviyo event's
/// properties (pasted from Klaviyo's activity feed) exactly as a Flow send would, and gives a test send the same
/// products. Lumo's side only: Klaviyo's Payload Preview remains the check of how Klaviyo renders the body.
/// </summary>
public sealed class ProductCardPreview(AutoSendMessageStore messages, Shopify.ShopifyFeedStore productFeeds)
{
    /// <summary>The preview, or null when the workspace has no such message.</summary>
    public async Task<MessagePreview?> PreviewAsync(string workspaceId, string messageId, JsonObject? eventProperties, IReadOnlyDictionary<string, string>? variables,
        CancellationToken cancellationToken)
    {
        if (await messages.GetIfExistsAsync(workspaceId, messageId, cancellationToken) is not { } message) return null;
        var trigger = TriggerProducts.Read(TriggerOf(message, eventProperties), []);
        var feeds = await productFeeds.ReadAsync(workspaceId, message.Feeds, cancellationToken);
        var rendered = message.Render(variables ?? new Dictionary<string, string>(), trigger, feeds, out var missing);
        var shown = rendered.OfType<JsonObject>().Select(m => m["contents"] as JsonObject).Where(c => c?["type"]?.ToString() == "carousel")
            .Sum(c => (c!["contents"] as JsonArray)?.Count ?? 0);
        var fromSource = (trigger?.Products.Count ?? 0) + feeds.Values.Sum(f => f.Products.Count);
        return new MessagePreview(rendered, shown, shown > 0 && fromSource == 0, missing, LineMessageRules.Validate(rendered));
    }

    /// <summary>The Flow body's <c>trigger</c> for a test send of <paramref name="messageId"/> with these event properties; null without an event.</summary>
    public async Task<JsonObject?> TriggerForTestSendAsync(string workspaceId, string messageId, JsonObject? eventProperties, CancellationToken cancellationToken)
    {
        if (eventProperties is null || !Ids.IsLumoId(messageId)) return null;
        var message = await messages.GetIfExistsAsync(workspaceId, messageId, cancellationToken);
        return message is null ? null : TriggerOf(message, eventProperties);
    }

    private static JsonObject? TriggerOf(AutoSendMessage message, JsonObject? eventProperties) =>
        eventProperties is null || message.TriggerTemplate is not { } template ? null : KlaviyoEventProducts.TriggerOf(eventProperties, template);
}
