namespace Lumo.Core.Shopify;

/// <summary>
/// The Lumo Shopify app (Partner Dashboard → Apps → Lumo → Client credentials) and where stores' Admin APIs are.
/// Empty <see cref="ClientId"/>: product feeds are off and installing answers 409.
/// </summary>
public sealed class ShopifyOptions
{
    public const string Section = "Lumo:Shopify";

    /// <summary>The Admin API version every request names (https://shopify.dev/docs/api/usage/versioning); our queries follow its schema.</summary>
    public const string ApiVersion = "2026-07";

    /// <summary>Read products (feeds) and orders (units sold, for best sellers); nothing else.</summary>
    public const string Scopes = "read_products,read_orders";

    public string? ClientId { get; set; }

    /// <summary>The app's client secret: signs installs, callbacks and webhooks. Required with <see cref="ClientId"/>; no default.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>A store's base URL, <c>{shop}</c> standing for its myshopify.com domain: <c>https://{shop}/</c> in production, the sandbox locally.</summary>
    public string AdminUrlTemplate { get; set; } = "https://{shop}/";

    /// <summary>How far back orders count for best sellers (1 to 60 days: without read_all_orders Shopify shows the last 60 days).</summary>
    public TimeSpan BestSellersWindow { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long after a product webhook the feeds are rebuilt: the webhooks of a bulk edit then cost one rebuild.</summary>
    public TimeSpan FeedRebuildDelay { get; set; } = TimeSpan.FromSeconds(20);

    public bool Configured => !string.IsNullOrWhiteSpace(ClientId);

    public Uri StoreUrl(ShopDomain shop, string path) => new(AdminUrlTemplate.Replace("{shop}", shop.Value, StringComparison.Ordinal).TrimEnd('/') + "/" + path);

    /// <summary>Why the settings cannot work, or null.</summary>
    public static string? Problem(ShopifyOptions o)
    {
        if (o.Configured && string.IsNullOrWhiteSpace(o.ClientSecret)) return "Lumo:Shopify:ClientSecret is required when Lumo:Shopify:ClientId is set.";
        if (!o.AdminUrlTemplate.Contains("{shop}", StringComparison.Ordinal)
            || !Uri.TryCreate(o.AdminUrlTemplate.Replace("{shop}", "example.myshopify.com", StringComparison.Ordinal), UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
            return "Lumo:Shopify:AdminUrlTemplate is an absolute http(s) URL containing {shop}, e.g. https://{shop}/.";
        if (o.BestSellersWindow < TimeSpan.FromDays(1) || o.BestSellersWindow > TimeSpan.FromDays(60)) return "Lumo:Shopify:BestSellersWindow is 1 to 60 days.";
        if (o.FeedRebuildDelay < TimeSpan.Zero || o.FeedRebuildDelay > TimeSpan.FromMinutes(10)) return "Lumo:Shopify:FeedRebuildDelay is 0 to 10 minutes.";
        return null;
    }
}
