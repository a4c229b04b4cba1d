using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Sandbox.Shopify;
using Lumo.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Lumo.Tests.Shopify;

/// <summary>
/// A workspace scenario with a Lumo Shopify app registered in the sandbox (its own client id, so counts are the
/// test's alone) and a store of its own; webhooks the sandbox sends reach the in-memory app. Installing goes through
/// the sandbox's grant screen and Lumo's callback, as a merchant's browser would.
/// </summary>
public sealed class ShopifyStoreScenario : IAsyncDisposable
{
    public const string ClientSecret = "shpss_test_secret_0123456789";
    public const string CallbackUrl = "http://localhost/api/shopify/callback";

    private ShopifyStoreScenario(WorkspaceScenario scenario, ShopifyApp app, ShopifyShop shop, HttpClient browser)
    {
        (Scenario, App, Shop, Browser) = (scenario, app, shop, browser);
        Redirecting = scenario.App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
    }

    public WorkspaceScenario Scenario { get; }
    public ShopifyApp App { get; }
    public ShopifyShop Shop { get; }
    /// <summary>The merchant's browser on the sandbox (no redirects followed).</summary>
    public HttpClient Browser { get; }
    /// <summary>The app, without following redirects (to see where a callback sends the browser).</summary>
    public HttpClient Redirecting { get; }
    public ShopifyState Sandbox => Scenario.Tenant.Sandbox.Shopify;
    public string StorePath => $"/api/manage/workspaces/{Scenario.WorkspaceId}/shopify";

    /// <param name="counter">Counts the app's Table storage requests.</param>
    public static async Task<ShopifyStoreScenario> StartAsync(ShopifyPlan? plan = null, StorageRequestCounter? counter = null)
    {
        var sandbox = await TestEnvironment.SandboxAsync();
        var clientId = "lumo-shopify-" + SandboxTenant.Hex(4);
        var scenario = await WorkspaceScenario.StartAsync(settings: new()
        {
            ["Lumo:Shopify:ClientId"] = clientId, ["Lumo:Shopify:ClientSecret"] = ClientSecret,
            ["Lumo:Shopify:AdminUrlTemplate"] = sandbox.BaseUrl + "shopify/{shop}/",
            ["Lumo:Shopify:FeedRebuildDelay"] = "00:00:01",
        }, services: counter is null ? null : s => StorageRequestCounter.Install(s, TestEnvironment.StorageConnectionStringAsync().Result, counter));
        var app = new ShopifyApp(clientId, ClientSecret, [CallbackUrl])
        {
            ApplicationUrl = "http://localhost/api/shopify/install", WebhookUri = "http://localhost/api/shopify/webhooks",
            Deliver = request => scenario.App.CreateClient().SendAsync(request),
        };
        sandbox.Shopify.Apps[clientId] = app;
        var shop = sandbox.Shopify.AddShop($"store-{SandboxTenant.Hex(4)}.myshopify.com", "Lumo Test Store", "JPY", plan ?? ShopifyPlan.Standard);
        var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = sandbox.BaseUrl };
        return new ShopifyStoreScenario(scenario, app, shop, browser);
    }

    public JsonObject AddProduct(string title, string price, string? compareAtPrice = null, int inventory = 10, string status = "ACTIVE", bool published = true,
        TimeSpan? publishedAgo = null) =>
        ShopifyState.NewProduct(Shop, title, [(price, compareAtPrice, inventory)], $"https://cdn.example.com/{title.Replace(' ', '-').ToLowerInvariant()}.jpg", status, published,
            DateTimeOffset.UtcNow - (publishedAgo ?? TimeSpan.FromDays(1)));

    public static long IdOf(JsonObject product) => ShopifyState.NumericId(product["id"]!.GetValue<string>());

    /// <summary>The admin starts the install and the merchant approves it; returns where Shopify sends the browser back to.</summary>
    public async Task<Uri> ApproveInstallAsync(string? shop = null)
    {
        var start = await Scenario.Admin.PostAsJsonAsync($"{StorePath}/install", new { shop = shop ?? Shop.Domain });
        Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        var authorize = new Uri((await start.Content.ReadFromJsonAsync<JsonObject>())!["authorizeUrl"]!.GetValue<string>());
        var query = System.Web.HttpUtility.ParseQueryString(authorize.Query);
        Assert.Equal((App.ClientId, "read_products,read_orders", CallbackUrl), (query["client_id"], query["scope"], query["redirect_uri"]));
        var form = query.AllKeys.ToDictionary(k => k!, k => query[k]!);
        form["decision"] = "install";
        var answer = await Browser.PostAsync(authorize.AbsolutePath, new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        return answer.Headers.Location!;
    }

    public Task<HttpResponseMessage> CallbackAsync(Uri location) => Redirecting.GetAsync(location.PathAndQuery);

    /// <summary>Installs, then waits until the full sync, the sales count and a feed build after both are done.</summary>
    public async Task<JsonObject> InstallAsync()
    {
        var callback = await CallbackAsync(await ApproveInstallAsync());
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal($"/api/console/w/{Scenario.WorkspaceId}/dashboard", callback.Headers.Location!.ToString());
        return await FeedsSettledAsync();
    }

    public async Task<JsonObject> FeedsSettledAsync(Func<JsonObject, bool>? also = null) =>
        await Eventually.MatchesAsync(() => Scenario.Admin.GetFromJsonAsync<JsonObject>(StorePath), s =>
            s!["fullSyncDone"]!.GetValue<bool>() && s["salesCountedAt"] is JsonValue counted && s["syncedUpTo"] is JsonValue synced
            && Feed(s, "newest")["builtAt"] is JsonValue built
            && built.GetValue<DateTimeOffset>() >= counted.GetValue<DateTimeOffset>() && built.GetValue<DateTimeOffset>() >= synced.GetValue<DateTimeOffset>()
            && (also?.Invoke(s) ?? true), TimeSpan.FromSeconds(60), because: "the store is synced and its feeds built")
        ?? throw new InvalidOperationException();

    public static JsonObject Feed(JsonObject store, string name) => store["feeds"]!.AsArray().OfType<JsonObject>().Single(f => f["feed"]!.GetValue<string>() == name);

    public static List<string> Names(JsonObject store, string feed) => Feed(store, feed)["items"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToList();

    /// <summary>A product card message showing <paramref name="feed"/>, with one fallback product.</summary>
    public async Task<string> CreateFeedCardAsync(string feed, string currency = "USD")
    {
        var card = new JsonObject
        {
            ["type"] = "products", ["title"] = "Our picks for you", ["text"] = "", ["buttonLabel"] = "Shop now", ["maxProducts"] = 3, ["currency"] = currency,
            ["source"] = new JsonObject { ["type"] = "feed", ["feed"] = feed },
            ["fallback"] = new JsonArray(new JsonObject { ["name"] = "Gift card", ["url"] = "https://example.com/gift", ["price"] = "3000" }),
        };
        var response = await Scenario.Admin.PostAsJsonAsync($"/api/manage/workspaces/{Scenario.WorkspaceId}/messages",
            new { name = $"{feed} card", messages = new JsonArray(card), trackOpensAndClicks = false });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!.Id();
    }

    private string? _flowKey;

    public async Task<string> FlowKeyAsync() => _flowKey ??= await Scenario.FlowKeyAsync();

    /// <summary>What a Klaviyo Flow posts for the message (no trigger: a feed card reads the store's feed).</summary>
    public async Task<HttpResponseMessage> FlowSendAsync(string messageId, string lineUserId, string idempotencyKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{Scenario.WorkspaceId}/send")
        {
            Content = JsonContent.Create(new { to = lineUserId, account = Scenario.AccountId, message = messageId, idempotencyKey }),
        };
        request.Headers.Add(FlowKeys.HeaderName, await FlowKeyAsync());
        return await Scenario.Client.SendAsync(request);
    }

    /// <summary>Posts a webhook to Lumo as Shopify would, signed with the app's secret unless <paramref name="signature"/> is given.</summary>
    public async Task<HttpResponseMessage> PostWebhookAsync(string topic, JsonObject payload, string? signature = null, string? shop = null, DateTimeOffset? triggeredAt = null)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(payload.ToJsonString());
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/shopify/webhooks") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-Shopify-Topic", topic);
        request.Headers.Add("X-Shopify-Hmac-Sha256", signature ?? ShopifyState.SignBody(ClientSecret, body));
        request.Headers.Add("X-Shopify-Shop-Domain", shop ?? Shop.Domain);
        request.Headers.Add("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Triggered-At", (triggeredAt ?? DateTimeOffset.UtcNow).ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        return await Scenario.Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Browser.Dispose();
        await Scenario.DisposeAsync();
    }
}
