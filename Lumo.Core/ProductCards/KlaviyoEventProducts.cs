using System.Text.Json.Nodes;

namespace Lumo.Core.ProductCards;

/// <summary>
/// The Flow body's <c>trigger</c> (unencoded) that Klaviyo would render from a Klaviyo event's properties, for an
/// admin's preview or test send: the same fields <see cref="TriggerBodies"/> has Klaviyo fill in, read here from the
/// event itself (pasted from Klaviyo's activity feed), so that a preview shows what the Flow will send and a test send
/// goes through the same reading (<see cref="TriggerProducts.Read"/>) as a Flow send.
/// </summary>
public static class KlaviyoEventProducts
{
    public static JsonObject TriggerOf(JsonObject properties, TriggerTemplate template)
    {
        var extra = properties["$extra"] as JsonObject; // anything of another shape reads as absent, as Klaviyo renders it
        var entries = new JsonArray();
        void Add(JsonNode? name, JsonNode? url, JsonNode? image, JsonNode? price, JsonNode? compareAt = null, JsonNode? handle = null) =>
            entries.Add(new JsonObject
            {
                ["name"] = Text(name), ["url"] = Text(url), ["imageUrl"] = Text(image), ["price"] = Text(price), ["compareAtPrice"] = Text(compareAt), ["handle"] = Text(handle),
            });

        if (template == TriggerTemplate.AbandonedCart)
        {
            foreach (var item in (extra?["line_items"] as JsonArray ?? []).Take(ProductCard.MaxProductsLimit).OfType<JsonObject>())
            {
                var product = item["product"] as JsonObject;
                var image = (product?["images"] as JsonArray)?.FirstOrDefault() as JsonObject;
                Add(Text(product?["title"]) is { Length: > 0 } ? product!["title"] : item["title"], null, image?["src"], item["price"], handle: product?["handle"]);
            }
            foreach (var item in (properties["Items"] as JsonArray ?? []).Take(ProductCard.MaxProductsLimit).OfType<JsonObject>())
                Add(item["ProductName"], item["ProductURL"], item["ImageURL"], item["ItemPrice"]);
        }
        else
        {
            foreach (var name in new[] { properties["ProductName"], properties["Name"] }.Where(n => Text(n) is { Length: > 0 }))
                Add(name, properties["URL"], properties["ImageURL"], properties["Price"], properties["CompareAtPrice"]);
        }
        JsonNode?[] links = template == TriggerTemplate.AbandonedCart ? [extra?["responsive_checkout_url"], extra?["checkout_url"], properties["CheckoutURL"]] : [];
        return new JsonObject { ["encoding"] = "none", ["products"] = entries, ["links"] = new JsonArray(links.Select(l => (JsonNode?)Text(l)).ToArray()) };
    }

    // Klaviyo renders numbers and strings alike as text; objects and lists render as nothing useful.
    private static string? Text(JsonNode? node) => node is JsonValue value ? value.ToString() : null;
}
