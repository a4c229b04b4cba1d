namespace Lumo.Sandbox.Shopify.GraphQL;

public enum FieldKind { Scalar, Object, Connection }

/// <summary>A field's type (the node type, for a connection) and the arguments it takes.</summary>
public sealed record FieldType(string Type, FieldKind Kind, params string[] Arguments);

/// <summary>
/// The subset of the Shopify Admin GraphQL API schema (version <see cref="ShopifyState.ApiVersion"/>,
/// https://shopify.dev/docs/api/admin-graphql) the sandbox answers: the shop, products with their variants and
/// featured media, and orders with their line items. A query that selects anything else is refused the way Shopify
/// refuses an unknown field (<c>undefinedField</c>), so a client cannot drift from the real schema unnoticed.
/// </summary>
public static class AdminSchema
{
    public const string Root = "QueryRoot";

    private static readonly string[] Paging = ["first", "after", "last", "before", "reverse"];

    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, FieldType>> Types = new Dictionary<string, IReadOnlyDictionary<string, FieldType>>
    {
        [Root] = new Dictionary<string, FieldType>
        {
            ["shop"] = new("Shop", FieldKind.Object),
            ["product"] = new("Product", FieldKind.Object, "id"),
            ["products"] = new("Product", FieldKind.Connection, [.. Paging, "query", "sortKey"]),
            ["orders"] = new("Order", FieldKind.Connection, [.. Paging, "query", "sortKey"]),
        },
        ["Shop"] = Scalars("id", "name", "myshopifyDomain", "currencyCode", "ianaTimezone"),
        ["Product"] = new Dictionary<string, FieldType>(Scalars("id", "title", "handle", "status", "onlineStoreUrl", "publishedAt", "createdAt", "updatedAt",
            "totalInventory", "tracksInventory", "vendor", "productType"))
        {
            ["featuredMedia"] = new("Media", FieldKind.Object),
            ["variants"] = new("ProductVariant", FieldKind.Connection, Paging),
        },
        ["Media"] = new Dictionary<string, FieldType>(Scalars("id", "alt", "mediaContentType")) { ["preview"] = new("MediaPreviewImage", FieldKind.Object) },
        ["MediaPreviewImage"] = new Dictionary<string, FieldType>(Scalars("status")) { ["image"] = new("Image", FieldKind.Object) },
        ["Image"] = Scalars("id", "url", "altText", "width", "height"),
        ["ProductVariant"] = Scalars("id", "title", "sku", "price", "compareAtPrice", "availableForSale", "inventoryQuantity"),
        ["Order"] = new Dictionary<string, FieldType>(Scalars("id", "name", "createdAt", "updatedAt", "cancelledAt", "test"))
        {
            ["lineItems"] = new("LineItem", FieldKind.Connection, Paging),
        },
        ["LineItem"] = new Dictionary<string, FieldType>(Scalars("id", "title", "quantity", "currentQuantity")) { ["product"] = new("Product", FieldKind.Object) },
        ["PageInfo"] = Scalars("hasNextPage", "hasPreviousPage", "startCursor", "endCursor"),
    };

    private static Dictionary<string, FieldType> Scalars(params string[] names) => names.ToDictionary(n => n, _ => new FieldType("", FieldKind.Scalar));
}
