using System.Text.Json.Nodes;

namespace Lumo.Core.ProductCards;

/// <summary>The Klaviyo Flow triggers a trigger card is made for; each has its own Get JSON body (<see cref="TriggerBodies"/>).</summary>
public enum TriggerTemplate { AbandonedCart, Browse, LowStock }

/// <summary>
/// A product card: a Lumo message type inside an Auto Send Message, saved as
/// <c>{"type":"products","title","text","buttonLabel","maxProducts","imageAspect","currency","source":{"type":"trigger","template":"abandoned-cart"},"fallback":[…]}</c>
/// (or <c>"source":{"type":"feed","feed":"best-sellers" | "newest" | "on-sale"}</c>, a feed of the workspace's Shopify store)
/// and expanded at send time into a text (title and text) followed by a LINE Flex carousel of up to
/// <see cref="MaxProducts"/> products (<see cref="ProductCardFlex"/>). The fallback products stand in when the source
/// yields none; with neither, the text goes out alone.
/// </summary>
public sealed partial record ProductCard
{
    public const string MessageType = "products";
    /// <summary>LINE's carousel takes 12 bubbles; a card shows at most 10 products.</summary>
    public const int MaxProductsLimit = 10;
    public const int MaxTitleLength = 100;
    public const int MaxTextLength = 1_000;
    /// <summary>LINE cuts longer button labels on narrow screens.</summary>
    public const int MaxButtonLabelLength = 20;
    /// <summary>The hero image shapes offered (LINE takes any width:height up to 1:3).</summary>
    public static readonly IReadOnlyList<string> ImageAspects = ["1:1", "20:13", "4:3", "3:4"];
    public static readonly IReadOnlyDictionary<string, TriggerTemplate> TemplateNames = new Dictionary<string, TriggerTemplate>
    {
        ["abandoned-cart"] = TriggerTemplate.AbandonedCart, ["browse"] = TriggerTemplate.Browse, ["low-stock"] = TriggerTemplate.LowStock,
    };

    public required string Title { get; init; }
    public string Text { get; init; } = "";
    public required string ButtonLabel { get; init; }
    public int MaxProducts { get; init; } = 3;
    public string ImageAspect { get; init; } = "1:1";
    /// <summary>The store currency (ISO 4217) prices are shown in.</summary>
    public required string Currency { get; init; }
    /// <summary>The Flow trigger whose products a trigger card shows; null for a feed card.</summary>
    public TriggerTemplate? Template { get; init; }
    /// <summary>The Shopify feed a feed card shows, read at send time from its precomputed top list; null for a trigger card.</summary>
    public ProductFeed? Feed { get; init; }
    public IReadOnlyList<Product> Fallback { get; init; } = [];

    public static bool IsCard(JsonNode? message) => message is JsonObject o && o["type"] is JsonValue v && v.TryGetValue<string>(out var t) && t == MessageType;

    /// <summary>The card a saved message object describes, or null when it does not validate (any more).</summary>
    public static ProductCard? TryFrom(JsonObject message) => Parse(message, "", []);

    /// <summary>The card, or null with every problem added to <paramref name="errors"/> under <paramref name="at"/>.</summary>
    public static ProductCard? Parse(JsonObject message, string at, Dictionary<string, string[]> errors)
    {
        var before = errors.Count;
        void Add(string field, string problem) => errors[$"{at}.{field}"] = [.. errors.GetValueOrDefault($"{at}.{field}") ?? [], problem];
        string? Text(string field) => message[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

        var title = Text("title")?.Trim();
        if (title is not { Length: > 0 and <= MaxTitleLength }) Add("title", $"A card title has 1 to {MaxTitleLength} characters.");
        // The title is the carousel's alternative text, which LINE requires: a variable alone could leave it empty.
        else if (Variable().Replace(title, "").Trim().Length == 0)
            Add("title", "A card title needs some text of its own besides variables.");
        var text = Text("text")?.Trim() ?? "";
        if (text.Length > MaxTextLength) Add("text", $"A card text has at most {MaxTextLength} characters.");
        var label = Text("buttonLabel")?.Trim();
        if (label is not { Length: > 0 and <= MaxButtonLabelLength }) Add("buttonLabel", $"A button label has 1 to {MaxButtonLabelLength} characters.");
        var max = message["maxProducts"] is null ? 3 : message["maxProducts"] is JsonValue m && m.TryGetValue<int>(out var n) ? n : 0;
        if (max is < 1 or > MaxProductsLimit) Add("maxProducts", $"A card shows 1 to {MaxProductsLimit} products.");
        var aspect = Text("imageAspect") ?? "1:1";
        if (!ImageAspects.Contains(aspect)) Add("imageAspect", $"The image aspect is one of {string.Join(", ", ImageAspects)}.");
        var currency = Text("currency");
        if (!Money.IsCurrencyCode(currency)) Add("currency", "The store currency is an ISO 4217 code such as JPY, TWD or THB.");

        TriggerTemplate? template = null;
        ProductFeed? feed = null;
        switch (message["source"] is JsonObject source && source["type"] is JsonValue kind && kind.TryGetValue<string>(out var k) ? k : null)
        {
            case "trigger" when message["source"]!["template"] is JsonValue t && t.TryGetValue<string>(out var name) && TemplateNames.TryGetValue(name, out var named):
                template = named;
                break;
            case "trigger":
                Add("source.template", $"A trigger card uses one of the templates {string.Join(", ", TemplateNames.Keys)}.");
                break;
            // A feed card may be saved before a store is installed: until then (and after an uninstall) it shows its fallbacks.
            case "feed" when message["source"]!["feed"] is JsonValue f && f.TryGetValue<string>(out var name) && ProductFeeds.Names.TryGetValue(name, out var chosen):
                feed = chosen;
                break;
            case "feed":
                Add("source.feed", $"A feed card uses one of the feeds {string.Join(", ", ProductFeeds.Names.Keys)}.");
                break;
            default:
                Add("source", "The source is {\"type\":\"trigger\",\"template\":\"abandoned-cart\" | \"browse\" | \"low-stock\"} or {\"type\":\"feed\",\"feed\":\"best-sellers\" | \"newest\" | \"on-sale\"}.");
                break;
        }

        var fallback = new List<Product>();
        if (message["fallback"] is JsonArray items)
        {
            if (items.Count > MaxProductsLimit) Add("fallback", $"At most {MaxProductsLimit} fallback products.");
            for (var i = 0; i < items.Count && i < MaxProductsLimit; i++)
            {
                if (FallbackProduct(items[i], $"fallback[{i}]", Add) is { } product) fallback.Add(product);
            }
        }
        else if (message["fallback"] is not null) Add("fallback", "Fallback products are a list.");

        if (errors.Count > before) return null;
        return new ProductCard
        {
            Title = title!, Text = text, ButtonLabel = label!, MaxProducts = max, ImageAspect = aspect, Currency = currency!,
            Template = template, Feed = feed, Fallback = fallback,
        };
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\{\{[^}]*\}\}")]
    private static partial System.Text.RegularExpressions.Regex Variable();

    // Fallbacks are typed by the merchant, so they are held to what a card can show rather than silently cleaned.
    private static Product? FallbackProduct(JsonNode? node, string at, Action<string, string> add)
    {
        if (node is not JsonObject item) { add(at, "A fallback product is an object with name, url, imageUrl and price."); return null; }
        string? Field(string name) => item[name] is JsonValue v ? v.ToString() : null;
        var product = Product.Create(Field("name"), Field("url"), Field("imageUrl"), Field("price"), Field("compareAtPrice"));
        if (product is null) { add($"{at}.name", "A fallback product needs a name."); return null; }
        if (Field("url") is not null && product.Url is null) add($"{at}.url", "The product link is an http or https URL of at most 1,000 characters.");
        if (Field("imageUrl") is not null && product.ImageUrl is null) add($"{at}.imageUrl", "The image is an HTTPS URL of a JPEG or PNG image.");
        if (Field("price") is not null && product.Price is null) add($"{at}.price", "The price is a number.");
        return product;
    }
}
