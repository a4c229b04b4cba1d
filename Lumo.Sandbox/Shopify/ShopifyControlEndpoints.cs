using System.Text.Json.Nodes;

namespace Lumo.Sandbox.Shopify;

/// <summary>
/// The sandbox's control API for Shopify under <c>/sandbox/shopify</c>: register apps and stores, add and change
/// products and orders (each change delivers the product webhook to the apps installed on the store, signed as
/// Shopify signs it), open an app as Shopify would (a signed App URL), uninstall an app, send the compliance
/// webhooks, and look at the webhooks delivered.
/// </summary>
public static class ShopifyControlEndpoints
{
    public sealed record AppSeed(string ClientId, string ClientSecret, List<string> RedirectUris, string? ApplicationUrl, string? WebhookUri);
    public sealed record ShopSeed(string Domain, string? Name, string? CurrencyCode, string? Plan);
    public sealed record VariantSeed(string Price, string? CompareAtPrice, int? Inventory);
    public sealed record ProductSeed(string Title, List<VariantSeed>? Variants, string? ImageUrl, string? Status, bool? Published, DateTimeOffset? PublishedAt, string? Handle);
    public sealed record ProductChange(string? Title, string? Price, string? CompareAtPrice, int? Inventory, bool? Published, string? Status);
    public sealed record OrderItem(long ProductId, int Quantity);
    public sealed record OrderSeed(List<OrderItem> Items, DateTimeOffset? CreatedAt);

    public const string ComplianceTopics = "customers/data_request, customers/redact, shop/redact";

    public static IEndpointRouteBuilder MapShopifyControl(this IEndpointRouteBuilder routes)
    {
        var shopify = routes.MapGroup("/sandbox/shopify");
        shopify.MapPost("/apps", (AppSeed seed, ShopifyState state) =>
        {
            state.Apps[seed.ClientId] = new ShopifyApp(seed.ClientId, seed.ClientSecret, seed.RedirectUris) { ApplicationUrl = seed.ApplicationUrl, WebhookUri = seed.WebhookUri };
            return Results.NoContent();
        });
        shopify.MapPost("/shops", (ShopSeed seed, ShopifyState state) =>
        {
            var plan = ShopifyPlan.All.FirstOrDefault(p => p.Name == (seed.Plan ?? "standard"));
            if (plan is null) return Results.BadRequest(new { error = $"plan is one of {string.Join(", ", ShopifyPlan.All.Select(p => p.Name))}" });
            var shop = state.AddShop(seed.Domain, seed.Name ?? seed.Domain.Split('.')[0], seed.CurrencyCode ?? "JPY", plan);
            return Results.Created($"/sandbox/shopify/shops/{shop.Domain}", new { shop.Domain, shop.Name, shop.CurrencyCode, plan = plan.Name });
        });
        shopify.MapGet("/shops/{shop}/products", (string shop, ShopifyState state) =>
            state.Shops.TryGetValue(shop, out var store) ? Results.Ok(store.Products.OrderBy(p => p.Key).Select(p => p.Value)) : Results.NotFound());
        shopify.MapPost("/shops/{shop}/products", async (string shop, ProductSeed seed, ShopifyState state, IHttpClientFactory http) =>
        {
            if (!state.Shops.TryGetValue(shop, out var store)) return Results.NotFound();
            var variants = (seed.Variants is { Count: > 0 } ? seed.Variants : [new VariantSeed("1000", null, 10)]).Select(v => (v.Price, v.CompareAtPrice, v.Inventory ?? 10));
            var product = ShopifyState.NewProduct(store, seed.Title, variants, seed.ImageUrl, seed.Status ?? "ACTIVE", seed.Published ?? true, seed.PublishedAt, seed.Handle);
            var deliveries = await NotifyAsync(state, store, "products/create", ShopifyState.ProductPayload(product), http);
            return Results.Created($"/sandbox/shopify/shops/{shop}/products/{ShopifyState.NumericId(product["id"]!.GetValue<string>())}", new { product, deliveries });
        });
        shopify.MapPatch("/shops/{shop}/products/{id:long}", async (string shop, long id, ProductChange change, ShopifyState state, IHttpClientFactory http) =>
        {
            if (!state.Shops.TryGetValue(shop, out var store) || !store.Products.TryGetValue(id, out var product)) return Results.NotFound();
            Change(store, product, change);
            return Results.Ok(new { product, deliveries = await NotifyAsync(state, store, "products/update", ShopifyState.ProductPayload(product), http) });
        });
        shopify.MapDelete("/shops/{shop}/products/{id:long}", async (string shop, long id, ShopifyState state, IHttpClientFactory http) =>
        {
            if (!state.Shops.TryGetValue(shop, out var store) || !store.Products.TryRemove(id, out _)) return Results.NotFound();
            return Results.Ok(new { deliveries = await NotifyAsync(state, store, "products/delete", new JsonObject { ["id"] = id }, http) });
        });
        shopify.MapPost("/shops/{shop}/orders", (string shop, OrderSeed seed, ShopifyState state) =>
        {
            if (!state.Shops.TryGetValue(shop, out var store)) return Results.NotFound();
            var items = seed.Items.Select(i => store.Products.TryGetValue(i.ProductId, out var p) ? (p, i.Quantity) : default).ToArray();
            if (items.Any(i => i.p is null)) return Results.BadRequest(new { error = "Every item names a product of this store." });
            return Results.Created($"/sandbox/shopify/shops/{shop}/orders", ShopifyState.AddOrder(store, seed.CreatedAt ?? DateTimeOffset.UtcNow, items!));
        });
        // What Shopify opens when the merchant installs or opens the app: its App URL with a signed query.
        shopify.MapGet("/shops/{shop}/launch", (string shop, string clientId, ShopifyState state) =>
        {
            if (!state.Shops.ContainsKey(shop) || !state.Apps.TryGetValue(clientId, out var app) || app.ApplicationUrl is null) return Results.NotFound();
            var query = ShopifyState.SignedQuery(app.ClientSecret, new Dictionary<string, string>
            {
                ["host"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"admin.shopify.com/store/{shop.Split('.')[0]}")).TrimEnd('='),
                ["shop"] = shop, ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(),
            });
            return Results.Ok(new { url = $"{app.ApplicationUrl}?{query}" });
        });
        shopify.MapDelete("/shops/{shop}/apps/{clientId}", async (string shop, string clientId, ShopifyState state, IHttpClientFactory http) =>
        {
            if (!state.Shops.TryGetValue(shop, out var store) || !state.Apps.TryGetValue(clientId, out var app) || state.InstallationOf(app, store) is not { } installation)
                return Results.NotFound();
            state.InstallationsByToken.TryRemove(installation.AccessToken, out _);
            var payload = new JsonObject { ["id"] = store.Id, ["name"] = store.Name, ["domain"] = store.Domain, ["myshopify_domain"] = store.Domain };
            return Results.Ok(new { delivery = await state.DeliverAsync(app, store, "app/uninstalled", payload, http.CreateClient()) });
        });
        shopify.MapPost("/shops/{shop}/apps/{clientId}/compliance", async (string shop, string clientId, string topic, ShopifyState state, IHttpClientFactory http) =>
        {
            if (!state.Shops.TryGetValue(shop, out var store) || !state.Apps.TryGetValue(clientId, out var app)) return Results.NotFound();
            if (!ComplianceTopics.Split(", ").Contains(topic)) return Results.BadRequest(new { error = $"topic is one of {ComplianceTopics}" });
            return Results.Ok(new { delivery = await state.DeliverAsync(app, store, topic, CompliancePayload(store, topic), http.CreateClient()) });
        });
        shopify.MapPost("/shops/{shop}/apps/{clientId}/drain", (string shop, string clientId, ShopifyState state) =>
        {
            if (!state.Shops.TryGetValue(shop, out var store) || !state.Apps.TryGetValue(clientId, out var app)) return Results.NotFound();
            state.BucketOf(app, store).Drain();
            return Results.NoContent();
        });
        shopify.MapGet("/webhooks", (ShopifyState state) => Results.Ok(state.Webhooks.ToList()));
        return routes;
    }

    private static void Change(ShopifyShop store, JsonObject product, ProductChange change)
    {
        if (change.Title is { } title) product["title"] = title;
        if (change.Status is { } status) product["status"] = status;
        foreach (var variant in product["variants"]!.AsArray().OfType<JsonObject>())
        {
            if (change.Price is { } price) variant["price"] = price;
            if (change.CompareAtPrice is { } compareAt) variant["compareAtPrice"] = compareAt.Length == 0 ? null : compareAt;
            if (change.Inventory is { } inventory) { variant["inventoryQuantity"] = inventory; variant["availableForSale"] = inventory > 0; }
        }
        product["totalInventory"] = product["variants"]!.AsArray().Sum(v => v!["inventoryQuantity"]!.GetValue<int>());
        if (change.Published == true && product["onlineStoreUrl"] is null) ShopifyState.Publish(store, product, DateTimeOffset.UtcNow);
        if (change.Published == false) { product["onlineStoreUrl"] = null; product["publishedAt"] = null; }
        product["updatedAt"] = ShopifyState.Iso(DateTimeOffset.UtcNow);
    }

    private static async Task<List<ShopifyWebhookDelivery>> NotifyAsync(ShopifyState state, ShopifyShop store, string topic, JsonObject payload, IHttpClientFactory http)
    {
        var deliveries = new List<ShopifyWebhookDelivery>();
        foreach (var installation in state.InstallationsByToken.Values.Where(i => i.Shop == store))
            deliveries.Add(await state.DeliverAsync(installation.App, store, topic, (JsonObject)payload.DeepClone(), http.CreateClient()));
        return deliveries;
    }

    // The payloads Shopify documents for the mandatory compliance webhooks (https://shopify.dev/docs/apps/build/privacy-law-compliance).
    private static JsonObject CompliancePayload(ShopifyShop store, string topic)
    {
        var payload = new JsonObject { ["shop_id"] = store.Id, ["shop_domain"] = store.Domain };
        var customer = new JsonObject { ["id"] = 191167, ["email"] = "john@example.com", ["phone"] = "555-625-1199" };
        switch (topic)
        {
            case "customers/data_request":
                payload["orders_requested"] = new JsonArray(299938, 280263);
                payload["customer"] = customer;
                payload["data_request"] = new JsonObject { ["id"] = 9999 };
                break;
            case "customers/redact":
                payload["customer"] = customer;
                payload["orders_to_redact"] = new JsonArray(299938, 280263);
                break;
        }
        return payload;
    }
}
