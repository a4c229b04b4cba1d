using System.Text;
using System.Text.Json.Nodes;

namespace Lumo.Core.ProductCards;

/// <summary>
/// The products of the event that triggered a Flow, as the Flow webhook body's <c>trigger</c> object carries them
/// (<see cref="TriggerBodies"/> writes the template Klaviyo fills in):
/// <c>{"encoding":"base64","products":[{"name","url","handle","imageUrl","price","compareAtPrice"}, …, null],"links":[…]}</c>.
/// With <c>base64</c> every text is Base64 of its UTF-8 bytes, which is what keeps the rendered body valid JSON
/// whatever a product name holds. The first usable link is the cart-recovery URL.
/// </summary>
public sealed record TriggerProducts(IReadOnlyList<Product> Products, string? CartUrl)
{
    /// <summary>Entries beyond this are ignored (a template slices to 10; a hand-written body may send more).</summary>
    public const int MaxEntries = 250;

    /// <summary>The variables a trigger gives a message's texts: the cart-recovery URL and the first product's name.</summary>
    public static readonly IReadOnlyList<string> VariableNames = ["cart_url", "product_name"];

    public static readonly TriggerProducts None = new([], null);

    public IReadOnlyDictionary<string, string> Variables => new Dictionary<string, string>
    {
        ["cart_url"] = CartUrl ?? "", ["product_name"] = Products.Count > 0 ? Products[0].Name : "",
    };

    /// <summary>
    /// Reads a Flow body's <c>trigger</c>. Its shape is checked (a 400 names what is wrong); a single field that does
    /// not decode, or a product without a name, is left out rather than failing the send, so the card falls back.
    /// </summary>
    public static TriggerProducts? Read(JsonNode? trigger, Dictionary<string, string[]> errors)
    {
        if (trigger is null) return null;
        if (trigger is not JsonObject body || body["products"] is not JsonArray entries || (body["links"] is not null and not JsonArray))
        {
            errors["trigger"] = ["The trigger is {\"encoding\":\"base64\",\"products\":[…],\"links\":[…]}; copy it from Get JSON."];
            return null;
        }
        var encoding = body["encoding"] is JsonValue e && e.TryGetValue<string>(out var name) ? name : "none";
        if (encoding is not ("base64" or "none"))
        {
            errors["trigger.encoding"] = ["The trigger's encoding is base64 or none."];
            return null;
        }
        string? Text(JsonNode? node) => node is JsonValue v ? Decode(v.ToString(), encoding) : null;

        var links = (body["links"] as JsonArray ?? []).Select(Text).Select(Product.LinkOrNull).OfType<string>().ToList();
        var cartUrl = links.FirstOrDefault();
        var products = new List<Product>();
        foreach (var entry in entries.Take(MaxEntries).OfType<JsonObject>())
        {
            var url = Text(entry["url"]);
            // Shopify's line items name the product by its handle (at most 255 characters) on the store's own host.
            if (string.IsNullOrWhiteSpace(url) && Text(entry["handle"]) is { Length: > 0 and <= 255 } handle && cartUrl is not null
                && Uri.TryCreate(new Uri(cartUrl), "/products/" + Uri.EscapeDataString(handle), out var productUrl))
                url = productUrl.AbsoluteUri;
            if (Product.Create(Text(entry["name"]), url, Text(entry["imageUrl"]), Text(entry["price"]), Text(entry["compareAtPrice"])) is { } product)
                products.Add(product);
        }
        return new TriggerProducts(products, cartUrl);
    }

    // Standard or URL-safe Base64, with or without padding.
    private static string? Decode(string value, string encoding)
    {
        if (encoding == "none") return value;
        var standard = value.Trim().Replace('-', '+').Replace('_', '/');
        standard = standard.PadRight(standard.Length + (4 - standard.Length % 4) % 4, '=');
        var bytes = new byte[standard.Length];
        return Convert.TryFromBase64String(standard, bytes, out var written) ? Encoding.UTF8.GetString(bytes, 0, written) : null;
    }
}
