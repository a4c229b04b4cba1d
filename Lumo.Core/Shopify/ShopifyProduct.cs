using System.Globalization;
using System.Text.Json.Nodes;

namespace Lumo.Core.Shopify;

/// <summary>
/// A store's product as Lumo keeps it for feeds: what a card shows (name, link, image, the price and compare-at price
/// of the variant shown) and what decides whether a feed may show it at all (<see cref="Eligible"/>).
/// </summary>
public sealed record ShopifyProduct(long Id, string Title, string? Url, string? ImageUrl, decimal? Price, decimal? CompareAtPrice,
    bool Active, bool Available, DateTimeOffset? PublishedAt, DateTimeOffset UpdatedAt)
{
    /// <summary>
    /// Fields of a product every sync query selects (requested cost 16: the product 1, its featured media 3,
    /// ten variants 12). Ten variants are enough to find one for sale; a product with more shows its first ten's.
    /// </summary>
    public const string GraphQLFields = "id title status onlineStoreUrl publishedAt updatedAt featuredMedia { preview { image { url } } } variants(first: 10) { nodes { price compareAtPrice availableForSale } }";
    public const int GraphQLCost = 16;

    /// <summary>Active, on the Online Store (Shopify gives an <c>onlineStoreUrl</c> only then) and with a variant for sale.</summary>
    public bool Eligible => Active && Available && Url is not null;

    public bool OnSale => Price is { } price && CompareAtPrice is { } compareAt && compareAt > price;

    /// <summary>The product a GraphQL node of <see cref="GraphQLFields"/> describes.</summary>
    public static ShopifyProduct FromNode(JsonObject node)
    {
        var variants = node["variants"]?["nodes"]?.AsArray().OfType<JsonObject>().ToList() ?? [];
        // The card shows the first variant for sale (the one a shopper would get), else the first.
        var shown = variants.FirstOrDefault(v => v["availableForSale"]?.GetValue<bool>() == true) ?? variants.FirstOrDefault();
        return new ShopifyProduct(
            IdOf(node["id"]!.GetValue<string>()),
            node["title"]?.GetValue<string>() ?? "",
            node["onlineStoreUrl"]?.GetValue<string>(),
            node["featuredMedia"]?["preview"]?["image"]?["url"]?.GetValue<string>(),
            Money(shown?["price"]), Money(shown?["compareAtPrice"]),
            node["status"]?.GetValue<string>() == "ACTIVE",
            variants.Any(v => v["availableForSale"]?.GetValue<bool>() == true),
            Date(node["publishedAt"]), Date(node["updatedAt"]) ?? default);
    }

    public static long IdOf(string gid) => long.Parse(gid[(gid.LastIndexOf('/') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture);

    public static string GidOf(long id) => $"gid://shopify/Product/{id}";

    // Shopify's Money scalar is a decimal in a string ("1200.00").
    private static decimal? Money(JsonNode? value) =>
        value is JsonValue v && v.TryGetValue<string>(out var text) && decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var amount) ? amount : null;

    private static DateTimeOffset? Date(JsonNode? value) =>
        value is JsonValue v && v.TryGetValue<string>(out var text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
}
