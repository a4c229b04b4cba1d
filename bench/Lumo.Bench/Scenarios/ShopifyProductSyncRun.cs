using System.Diagnostics;
using System.Text.Json.Nodes;
using Lumo.Core.Secrets;
using Lumo.Core.Shopify;
using Lumo.Sandbox;
using Lumo.Sandbox.Shopify;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// The first product sync of a store of N products on a given Shopify plan, timed from the queued work to the last
/// page stored (the catch-up incremental pass included), against the cost-based ceiling the sandbox enforced in the
/// same run: the points actually charged, less the full bucket the sync started with, at the plan's restore rate.
/// Products were last updated an hour before, as in a store that is not being edited during the install.
/// </summary>
public static class ShopifyProductSyncRun
{
    public sealed record Result(int Products, TimeSpan Elapsed, long PointsCharged, long Throttled, ShopifyPlan Plan, long PeakExtraBytes, TimeSpan GcPause, int Stored)
    {
        /// <summary>The least time Shopify's bucket allowed for the points charged: what was in the full bucket was free.</summary>
        public TimeSpan Ceiling => TimeSpan.FromSeconds(Math.Max(0, PointsCharged - Plan.BucketSize) / (double)Plan.RestoreRate);
    }

    public static async Task<Result> RunAsync(string storage, SandboxHost sandbox, string prefix, int productCount, ShopifyPlan plan)
    {
        var app = new ShopifyApp("bench-shopify-" + BenchWorkspace.Hex(3), BenchWorkspace.Hex(16), []);
        sandbox.Shopify.Apps[app.ClientId] = app;
        var shop = sandbox.Shopify.AddShop($"bench-{BenchWorkspace.Hex(4)}.myshopify.com", "Bench store", "JPY", plan);
        var lastHour = ShopifyState.Iso(DateTimeOffset.UtcNow.AddHours(-1));
        for (var i = 0; i < productCount; i++)
        {
            var variants = Enumerable.Range(0, 1 + i % 3).Select(v => ($"{1000 + i % 500}.00", i % 4 == 0 ? $"{1500 + i % 500}.00" : null, (i + v) % 17 == 0 ? 0 : 5));
            var product = ShopifyState.NewProduct(shop, $"Product {i}", variants, i % 10 == 0 ? null : $"https://cdn.example.com/p/{i}.jpg", published: i % 20 != 0);
            (product["updatedAt"], product["createdAt"]) = (lastHour, lastHour);
        }
        var token = "shpat_" + BenchWorkspace.Hex(16);
        sandbox.Shopify.InstallationsByToken[token] = new ShopifyAppInstallation(app, shop, token, ShopifyOptions.Scopes, DateTimeOffset.UtcNow);

        await using var services = BenchServices.Create(storage, sandbox, prefix, new Dictionary<string, string?>
        {
            ["Lumo:Shopify:ClientId"] = app.ClientId, ["Lumo:Shopify:ClientSecret"] = app.ClientSecret,
            ["Lumo:Shopify:AdminUrlTemplate"] = sandbox.BaseUrl + "shopify/{shop}/",
        });
        var workspaceId = BenchWorkspace.Hex(16);
        ShopDomain.TryParse(shop.Domain, out var domain);
        await services.GetRequiredService<ISecretStore>().SetAsync(SecretNames.ShopifyAccessToken(workspaceId), token);
        await services.GetRequiredService<ShopifyConnectionStore>().SaveAsync(new ShopifyConnection
        {
            WorkspaceId = workspaceId, Shop = domain, Scope = ShopifyOptions.Scopes, InstalledAt = DateTimeOffset.UtcNow, Currency = "JPY",
        }, default);

        var memory = new MemorySampler();
        var clock = Stopwatch.StartNew();
        await services.GetRequiredService<ShopifyProductSync>().SyncAsync(workspaceId, default);
        clock.Stop();
        await memory.DisposeAsync();
        var stored = (await services.GetRequiredService<ShopifyConnectionStore>().GetIfExistsAsync(workspaceId, default))!.Products;
        return new Result(productCount, clock.Elapsed, sandbox.Shopify.PointsCharged.GetValueOrDefault(shop.Domain), sandbox.Shopify.Throttled.GetValueOrDefault(shop.Domain),
            plan, memory.PeakExtraBytes, memory.GcPause, stored);
    }
}
