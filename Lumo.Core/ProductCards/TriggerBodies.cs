namespace Lumo.Core.ProductCards;

/// <summary>
/// The <c>trigger</c> part of a Get JSON body for each trigger template: Django-style template text that Klaviyo
/// renders with the triggering event before it posts the webhook. Every value passes through Klaviyo's documented
/// <c>base64_encode</c> filter (https://developers.klaviyo.com/en/docs/glossary-of-variable-filters): Klaviyo has no
/// JSON-escaping filter, and Base64 holds no quote, backslash, newline or HTML-escapable character, so the body stays
/// valid JSON whatever a product name holds. Each product entry ends with a comma and the list with <c>null</c>, so
/// loops and conditions never leave a dangling comma. Both event shapes are read: Klaviyo's Shopify integration
/// ("Checkout Started": <c>$extra.line_items</c>, <c>$extra.checkout_url</c>; "Viewed Product": <c>Name</c>) and the
/// API/JavaScript tracking guide ("Started Checkout": <c>Items[]</c> objects, <c>CheckoutURL</c>; "Viewed Product":
/// <c>ProductName</c>). Low stock reads the catalog item with Klaviyo's <c>{% catalog %}</c> tag, and the event's own
/// fields as well. Loops take at most 10 items, the most a card shows.
/// </summary>
public static class TriggerBodies
{
    private const string Marker = "\"__lumo_trigger__\"";

    /// <summary>A JSON string value that <see cref="Insert"/> replaces with the template's <c>trigger</c> object.</summary>
    public static string Placeholder => Marker.Trim('"');

    /// <summary>Puts the trigger template text where the serialised body holds <see cref="Placeholder"/>.</summary>
    public static string Insert(string body, TriggerTemplate template) => body.Replace(Marker, For(template));

    public static string For(TriggerTemplate template) => template switch
    {
        TriggerTemplate.AbandonedCart => Object(
            products: Loop("event.extra.line_items", Entry(("name", "item.product.title|default:item.title"), ("handle", "item.product.handle"),
                    ("imageUrl", "item.product.images.0.src"), ("price", "item.price")))
                + Loop("event.Items", Entry(("name", "item.ProductName"), ("url", "item.ProductURL"), ("imageUrl", "item.ImageURL"), ("price", "item.ItemPrice")), condition: "item.ProductName"),
            links: ["event.extra.responsive_checkout_url", "event.extra.checkout_url", "event.CheckoutURL"]),
        TriggerTemplate.Browse => Object(products: ViewedProduct, links: []),
        TriggerTemplate.LowStock => Object(
            products: "{% catalog event.ProductID %}" + Entry(("name", "catalog_item.title"), ("url", "catalog_item.url"),
                ("imageUrl", "catalog_item.featured_image.full.src"), ("price", "catalog_item.metadata|lookup:'price'")) + "{% endcatalog %}" + ViewedProduct,
            links: []),
        _ => throw new ArgumentOutOfRangeException(nameof(template)),
    };

    // The single product of a "Viewed Product" event, in either shape.
    private static string ViewedProduct =>
        If("event.ProductName", Entry(("name", "event.ProductName"), ("url", "event.URL"), ("imageUrl", "event.ImageURL"), ("price", "event.Price"), ("compareAtPrice", "event.CompareAtPrice")))
        + If("event.Name", Entry(("name", "event.Name"), ("url", "event.URL"), ("imageUrl", "event.ImageURL"), ("price", "event.Price"), ("compareAtPrice", "event.CompareAtPrice")));

    private static string Object(string products, IReadOnlyList<string> links) =>
        "{\"encoding\":\"base64\",\"products\":[" + products + "null],\"links\":[" + string.Join(",", links.Select(Value)) + "]}";

    private static string Loop(string list, string entry, string? condition = null) =>
        $"{{% for item in {list}|slice:':{ProductCard.MaxProductsLimit}' %}}" + (condition is null ? entry : If(condition, entry)) + "{% endfor %}";

    private static string If(string condition, string body) => $"{{% if {condition} %}}{body}{{% endif %}}";

    private static string Entry(params (string Field, string Expression)[] fields) =>
        "{" + string.Join(",", fields.Select(f => $"\"{f.Field}\":{Value(f.Expression)}")) + "},";

    private static string Value(string expression) => $"\"{{{{ {expression}|default:''|base64_encode }}}}\"";
}
