using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Lumo.Sandbox.Shopify;

/// <summary>
/// A Shopify plan's GraphQL Admin API limit (https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits):
/// a bucket of query-cost points per app and store, restored every second.
/// </summary>
public sealed record ShopifyPlan(string Name, int BucketSize, int RestoreRate)
{
    public static readonly ShopifyPlan Standard = new("standard", 2_000, 100);
    public static readonly ShopifyPlan Advanced = new("advanced", 4_000, 200);
    public static readonly ShopifyPlan Plus = new("plus", 20_000, 1_000);
    public static readonly ShopifyPlan Enterprise = new("enterprise", 40_000, 2_000);
    public static readonly IReadOnlyList<ShopifyPlan> All = [Standard, Advanced, Plus, Enterprise];
}

/// <summary>
/// An app registered in the Partner Dashboard: its credentials, allowed redirection URLs, its App URL (where Shopify
/// opens it, with a signed query) and the webhook subscriptions its <c>shopify.app.toml</c> declares.
/// </summary>
public sealed class ShopifyApp(string clientId, string clientSecret, IReadOnlyList<string> redirectUris)
{
    public string ClientId { get; } = clientId;
    public string ClientSecret { get; } = clientSecret;
    public IReadOnlyList<string> RedirectUris { get; } = redirectUris;
    public string? ApplicationUrl { get; set; }
    /// <summary>Where webhooks (product topics, <c>app/uninstalled</c> and the compliance topics) are delivered.</summary>
    public string? WebhookUri { get; set; }
    /// <summary>Tests deliver to an in-memory app instead of over the network.</summary>
    public Func<HttpRequestMessage, Task<HttpResponseMessage>>? Deliver { get; set; }
}

/// <summary>An app's offline access token on one store.</summary>
public sealed record ShopifyAppInstallation(ShopifyApp App, ShopifyShop Shop, string AccessToken, string Scope, DateTimeOffset InstalledAt);

/// <summary>A webhook as it was delivered, with what the app answered (0: it could not be reached).</summary>
public sealed record ShopifyWebhookDelivery(string Topic, string Shop, string WebhookId, string Body, int Status);

/// <summary>A simulated store: products and orders as the GraphQL Admin API shows them (field names of the schema).</summary>
public sealed class ShopifyShop(string domain, string name, string currencyCode, ShopifyPlan plan)
{
    private long _nextId = 7_000_000_000 + Random.Shared.Next(1_000_000);
    public string Domain { get; } = domain;
    public string Name { get; } = name;
    public string CurrencyCode { get; } = currencyCode;
    public ShopifyPlan Plan { get; set; } = plan;
    public long Id { get; } = 60_000_000 + Random.Shared.Next(1_000_000);
    public ConcurrentDictionary<long, JsonObject> Products { get; } = new();
    public ConcurrentQueue<JsonObject> Orders { get; } = new();

    public long NextId() => Interlocked.Increment(ref _nextId);

    public JsonObject ShopNode() => new()
    {
        ["id"] = $"gid://shopify/Shop/{Id}", ["name"] = Name, ["myshopifyDomain"] = Domain, ["currencyCode"] = CurrencyCode, ["ianaTimezone"] = "Asia/Tokyo",
    };
}

/// <summary>Everything the simulated Shopify holds: apps, stores, installations, authorization codes, cost buckets and webhooks sent.</summary>
public sealed class ShopifyState
{
    /// <summary>The Admin API version the sandbox serves (Shopify's latest stable release when this was written).</summary>
    public const string ApiVersion = "2026-07";
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(10);

    public ConcurrentDictionary<string, ShopifyApp> Apps { get; } = new();
    public ConcurrentDictionary<string, ShopifyShop> Shops { get; } = new(StringComparer.OrdinalIgnoreCase);
    public ConcurrentDictionary<string, ShopifyAppInstallation> InstallationsByToken { get; } = new();
    public ConcurrentDictionary<string, (string ClientId, string Shop, string Scope, DateTimeOffset ExpiresAt)> Codes { get; } = new();
    public ConcurrentDictionary<string, CostBucket> Buckets { get; } = new();
    public ConcurrentQueue<ShopifyWebhookDelivery> Webhooks { get; } = new();
    /// <summary>THROTTLED answers per store, for tests and the benchmark.</summary>
    public ConcurrentDictionary<string, long> Throttled { get; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>Actual query cost charged per store.</summary>
    public ConcurrentDictionary<string, long> PointsCharged { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ShopifyShop AddShop(string domain, string name, string currencyCode, ShopifyPlan plan) => Shops[domain] = new ShopifyShop(domain, name, currencyCode, plan);

    public CostBucket BucketOf(ShopifyApp app, ShopifyShop shop) => Buckets.GetOrAdd($"{app.ClientId}|{shop.Domain}", _ => new CostBucket(shop));

    public ShopifyAppInstallation? InstallationOf(ShopifyApp app, ShopifyShop shop) =>
        InstallationsByToken.Values.FirstOrDefault(i => i.App == app && i.Shop == shop);

    /// <summary>A product as the GraphQL API shows it; <paramref name="published"/> false: not on the Online Store (no <c>onlineStoreUrl</c>).</summary>
    public static JsonObject NewProduct(ShopifyShop shop, string title, IEnumerable<(string Price, string? CompareAtPrice, int Inventory)> variants, string? imageUrl = null,
        string status = "ACTIVE", bool published = true, DateTimeOffset? publishedAt = null, string? handle = null)
    {
        var id = shop.NextId();
        var now = DateTimeOffset.UtcNow;
        handle ??= new string(title.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-') + "-" + id % 10_000;
        var variantNodes = new JsonArray(variants.Select(v => (JsonNode)new JsonObject
        {
            ["id"] = $"gid://shopify/ProductVariant/{shop.NextId()}", ["title"] = "Default Title", ["sku"] = null,
            ["price"] = v.Price, ["compareAtPrice"] = v.CompareAtPrice, ["availableForSale"] = v.Inventory > 0, ["inventoryQuantity"] = v.Inventory,
        }).ToArray());
        var product = new JsonObject
        {
            ["id"] = $"gid://shopify/Product/{id}", ["title"] = title, ["handle"] = handle, ["status"] = status, ["vendor"] = shop.Name, ["productType"] = "",
            ["onlineStoreUrl"] = null, ["publishedAt"] = null,
            ["createdAt"] = Iso(now), ["updatedAt"] = Iso(now), ["tracksInventory"] = true,
            ["totalInventory"] = variantNodes.Sum(v => v!["inventoryQuantity"]!.GetValue<int>()),
            ["featuredMedia"] = imageUrl is null ? null : new JsonObject
            {
                ["id"] = $"gid://shopify/MediaImage/{shop.NextId()}", ["alt"] = title, ["mediaContentType"] = "IMAGE",
                ["preview"] = new JsonObject { ["status"] = "READY", ["image"] = new JsonObject { ["id"] = $"gid://shopify/ImageSource/{shop.NextId()}", ["url"] = imageUrl, ["altText"] = title, ["width"] = 1024, ["height"] = 1024 } },
            },
            ["variants"] = variantNodes,
        };
        if (published) Publish(shop, product, publishedAt ?? now);
        shop.Products[id] = product;
        return product;
    }

    public static void Publish(ShopifyShop shop, JsonObject product, DateTimeOffset at)
    {
        product["onlineStoreUrl"] = $"https://{shop.Domain}/products/{product["handle"]}";
        product["publishedAt"] = Iso(at);
    }

    public static long NumericId(string gid) => long.Parse(gid[(gid.LastIndexOf('/') + 1)..], CultureInfo.InvariantCulture);

    /// <summary>An order of <paramref name="items"/> (product, quantity) placed at <paramref name="createdAt"/>.</summary>
    public static JsonObject AddOrder(ShopifyShop shop, DateTimeOffset createdAt, params (JsonObject Product, int Quantity)[] items)
    {
        var id = shop.NextId();
        var order = new JsonObject
        {
            ["id"] = $"gid://shopify/Order/{id}", ["name"] = $"#{1000 + shop.Orders.Count + 1}", ["createdAt"] = Iso(createdAt), ["updatedAt"] = Iso(createdAt),
            ["cancelledAt"] = null, ["test"] = false,
            // A line item's product is a reference (the product's id), resolved when selected: a deleted product reads as null, as in Shopify.
            ["lineItems"] = new JsonArray(items.Select(i => (JsonNode)new JsonObject
            {
                ["id"] = $"gid://shopify/LineItem/{shop.NextId()}", ["title"] = i.Product["title"]!.GetValue<string>(), ["quantity"] = i.Quantity, ["currentQuantity"] = i.Quantity,
                ["product"] = i.Product["id"]!.GetValue<string>(),
            }).ToArray()),
        };
        shop.Orders.Enqueue(order);
        return order;
    }

    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Shopify's OAuth query signature: HMAC-SHA256 (hex) of the sorted <c>key=value</c> pairs without <c>hmac</c> and <c>signature</c>.</summary>
    public static string SignQuery(string secret, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var message = string.Join('&', parameters.Where(p => p.Key is not ("hmac" or "signature")).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(message)));
    }

    /// <summary>A query string with <c>hmac</c> appended, as Shopify sends the app's install and callback requests.</summary>
    public static string SignedQuery(string secret, Dictionary<string, string> parameters)
    {
        var query = string.Join('&', parameters.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"));
        return $"{query}&hmac={SignQuery(secret, parameters)}";
    }

    /// <summary>A webhook body's signature: Base64 of HMAC-SHA256 of the raw body with the app's secret.</summary>
    public static string SignBody(string secret, byte[] body) => Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>Delivers a webhook of <paramref name="topic"/> to <paramref name="app"/>, signed with its secret, and records the answer.</summary>
    public async Task<ShopifyWebhookDelivery> DeliverAsync(ShopifyApp app, ShopifyShop shop, string topic, JsonObject payload, HttpClient http, string? webhookId = null)
    {
        var body = Encoding.UTF8.GetBytes(payload.ToJsonString());
        webhookId ??= Guid.NewGuid().ToString();
        var status = 0;
        if (app.WebhookUri is { } uri)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.Add("X-Shopify-Topic", topic);
            request.Headers.Add("X-Shopify-Hmac-Sha256", SignBody(app.ClientSecret, body));
            request.Headers.Add("X-Shopify-Shop-Domain", shop.Domain);
            request.Headers.Add("X-Shopify-Webhook-Id", webhookId);
            request.Headers.Add("X-Shopify-Event-Id", Guid.NewGuid().ToString());
            request.Headers.Add("X-Shopify-Triggered-At", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            request.Headers.Add("X-Shopify-API-Version", ApiVersion);
            try
            {
                using var response = app.Deliver is { } deliver ? await deliver(request) : await http.SendAsync(request);
                status = (int)response.StatusCode;
            }
            catch (HttpRequestException)
            {
                status = 0; // Shopify retries 8 times over 4 hours; the control API's caller sees the failure and may send again
            }
        }
        var delivery = new ShopifyWebhookDelivery(topic, shop.Domain, webhookId, Encoding.UTF8.GetString(body), status);
        Webhooks.Enqueue(delivery);
        return delivery;
    }

    /// <summary>The webhook payload of a product topic (the REST resource's shape, abridged; Lumo reads only the id).</summary>
    public static JsonObject ProductPayload(JsonObject product) => new()
    {
        ["id"] = NumericId(product["id"]!.GetValue<string>()), ["admin_graphql_api_id"] = product["id"]!.GetValue<string>(),
        ["title"] = product["title"]!.GetValue<string>(), ["handle"] = product["handle"]!.GetValue<string>(), ["status"] = product["status"]!.GetValue<string>().ToLowerInvariant(),
        ["updated_at"] = product["updatedAt"]!.GetValue<string>(), ["published_at"] = product["publishedAt"]?.GetValue<string>(),
    };

    public void Reset()
    {
        Apps.Clear();
        Shops.Clear();
        InstallationsByToken.Clear();
        Codes.Clear();
        Buckets.Clear();
        Webhooks.Clear();
        Throttled.Clear();
        PointsCharged.Clear();
    }
}

/// <summary>
/// The leaky bucket of one app on one store: a query is let through when its requested cost is available, which is
/// then taken; the difference to its actual cost is given back after it ran (Shopify's refund).
/// </summary>
public sealed class CostBucket(ShopifyShop shop)
{
    private double _available = shop.Plan.BucketSize;
    private DateTimeOffset _at = DateTimeOffset.UtcNow;

    public ShopifyPlan Plan => shop.Plan;

    public double Available
    {
        get { lock (this) { Restore(); return _available; } }
    }

    public bool TryTake(int cost)
    {
        lock (this)
        {
            Restore();
            if (cost > _available) return false;
            _available -= cost;
            return true;
        }
    }

    public void Refund(int points)
    {
        lock (this) { Restore(); _available = Math.Min(Plan.BucketSize, _available + points); }
    }

    /// <summary>Empties the bucket, as another process of the same app spending the store's quota would (tests of throttling).</summary>
    public void Drain()
    {
        lock (this) { Restore(); _available = 0; }
    }

    private void Restore()
    {
        var now = DateTimeOffset.UtcNow;
        _available = Math.Min(Plan.BucketSize, _available + (now - _at).TotalSeconds * Plan.RestoreRate);
        _at = now;
    }
}
