using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Sandbox;
using Lumo.Sandbox.Shopify;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Sandbox;

/// <summary>
/// The simulated Shopify GraphQL Admin API behaves as Shopify documents: queries are checked against the schema,
/// cost is requested up front and refunded to the actual cost, a query over 1,000 points or above what the bucket
/// holds is refused (HTTP 200 with <c>errors</c>), and every answer carries <c>extensions.cost</c>.
/// </summary>
public sealed class ShopifySandboxTests : IAsyncLifetime
{
    private SandboxHost _sandbox = null!;
    private HttpClient _http = null!;
    private ShopifyShop _shop = null!;
    private string _token = null!;

    public async Task InitializeAsync()
    {
        _sandbox = await TestEnvironment.SandboxAsync();
        var app = new ShopifyApp("sandbox-test-" + SandboxTenant.Hex(4), "secret", []);
        _sandbox.Shopify.Apps[app.ClientId] = app;
        _shop = _sandbox.Shopify.AddShop($"s-{SandboxTenant.Hex(4)}.myshopify.com", "S", "JPY", ShopifyPlan.Standard);
        _token = "shpat_" + SandboxTenant.Hex(16);
        _sandbox.Shopify.InstallationsByToken[_token] = new ShopifyAppInstallation(app, _shop, _token, "read_products", DateTimeOffset.UtcNow);
        for (var i = 0; i < 3; i++) ShopifyState.NewProduct(_shop, $"P{i}", [("100", null, 1)]);
        _http = new HttpClient { BaseAddress = _sandbox.BaseUrl };
        _http.DefaultRequestHeaders.Add("X-Shopify-Access-Token", _token);
    }

    public Task DisposeAsync()
    {
        _http.Dispose();
        return Task.CompletedTask;
    }

    private async Task<JsonObject> QueryAsync(string query, JsonObject? variables = null)
    {
        var response = await _http.PostAsJsonAsync($"/shopify/{_shop.Domain}/admin/api/{ShopifyState.ApiVersion}/graphql.json", new JsonObject { ["query"] = query, ["variables"] = variables });
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static string? ErrorCode(JsonObject answer) => answer["errors"]?[0]?["extensions"]?["code"]?.GetValue<string>();

    [Fact]
    public async Task AQueryIsChargedItsRequestedCostAndRefundedToItsActualCost()
    {
        var answer = await QueryAsync("query P($n: Int!) { products(first: $n) { nodes { id title variants(first: 5) { nodes { price } } } } }", new JsonObject { ["n"] = 50 });

        Assert.Equal(3, answer["data"]!["products"]!["nodes"]!.AsArray().Count);
        var cost = answer["extensions"]!["cost"]!;
        Assert.Equal(2 + 50 * (1 + 2 + 5), cost["requestedQueryCost"]!.GetValue<int>());
        Assert.Equal(2 + 3 * (1 + 2 + 1), cost["actualQueryCost"]!.GetValue<int>());
        Assert.Equal(2000, cost["throttleStatus"]!["maximumAvailable"]!.GetValue<double>());
        Assert.InRange(cost["throttleStatus"]!["currentlyAvailable"]!.GetValue<int>(), 1_950, 2_000);
    }

    [Fact]
    public async Task QueriesOutsideTheSchemaOrTheLimitsAreRefusedAsShopifyRefusesThem()
    {
        Assert.Equal("undefinedField", ErrorCode(await QueryAsync("{ products(first: 1) { nodes { id price } } }")));
        Assert.Equal("argumentLiteralsIncompatible", ErrorCode(await QueryAsync("{ products { nodes { id } } }")));
        Assert.Equal("argumentLiteralsIncompatible", ErrorCode(await QueryAsync("{ products(first: 251) { nodes { id } } }")));
        Assert.Equal("MAX_COST_EXCEEDED", ErrorCode(await QueryAsync("{ products(first: 250) { nodes { id variants(first: 10) { nodes { price } } } } }")));
        Assert.Equal("parseError", ErrorCode(await QueryAsync("{ products(first: 1) { nodes { id ")));

        _sandbox.Shopify.BucketOf(_sandbox.Shopify.Apps.Values.Single(a => _sandbox.Shopify.InstallationOf(a, _shop) is not null), _shop).Drain();
        var throttled = await QueryAsync("{ products(first: 10) { nodes { id } } }");
        Assert.Equal("THROTTLED", ErrorCode(throttled));
        Assert.Null(throttled["data"]);
        Assert.Null(throttled["extensions"]!["cost"]!["actualQueryCost"]);
        Assert.Equal(100, throttled["extensions"]!["cost"]!["throttleStatus"]!["restoreRate"]!.GetValue<double>());
    }

    [Fact]
    public async Task PagesFollowTheCursorAndSearchFiltersByUpdatedAt()
    {
        var first = await QueryAsync("{ products(first: 2, sortKey: ID) { pageInfo { hasNextPage endCursor } nodes { title } } }");
        var cursor = first["data"]!["products"]!["pageInfo"]!["endCursor"]!.GetValue<string>();
        var second = await QueryAsync("query($after: String) { products(first: 2, after: $after, sortKey: ID) { pageInfo { hasNextPage } nodes { title } } }", new JsonObject { ["after"] = cursor });
        Assert.Equal(["P0", "P1"], first["data"]!["products"]!["nodes"]!.AsArray().Select(n => n!["title"]!.GetValue<string>()));
        Assert.Equal(["P2"], second["data"]!["products"]!["nodes"]!.AsArray().Select(n => n!["title"]!.GetValue<string>()));
        Assert.False(second["data"]!["products"]!["pageInfo"]!["hasNextPage"]!.GetValue<bool>());

        var future = DateTimeOffset.UtcNow.AddMinutes(5).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        var none = await QueryAsync($"{{ products(first: 5, query: \"updated_at:>'{future}'\") {{ nodes {{ id }} }} }}");
        Assert.Empty(none["data"]!["products"]!["nodes"]!.AsArray());
    }
}
