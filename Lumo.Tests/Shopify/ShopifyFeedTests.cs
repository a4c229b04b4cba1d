using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Secrets;
using Lumo.Core.Shopify;
using Lumo.Core.Storage;
using Lumo.Sandbox.Shopify;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Shopify;

/// <summary>
/// Product feeds from a Shopify store: the app installed through the sandbox's grant screen, products synced with
/// the GraphQL Admin API, each feed built from them (only active, Online Store, in-stock products; best sellers by
/// units in the window from orders), and a feed card sent from a Flow with what LINE received.
/// </summary>
public sealed class ShopifyFeedTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private ShopifyStoreScenario _store = null!;

    public async Task InitializeAsync() => _store = await ShopifyStoreScenario.StartAsync();

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private static List<JsonObject> Bubbles(JsonArray messages) => messages[1]!["contents"]!["contents"]!.AsArray().Select(b => b!.AsObject()).ToList();
    private static string Name(JsonObject bubble) => bubble["body"]!["contents"]![0]!["text"]!.GetValue<string>();
    private static string? Price(JsonObject bubble) => bubble["body"]!["contents"]!.AsArray().ElementAtOrDefault(1)?["contents"]?[0]?["text"]?.GetValue<string>();

    [Fact]
    public async Task InstallingSyncsTheStoreAndEachFeedShowsOnlyWhatTheOnlineStoreSells()
    {
        var matcha = _store.AddProduct("Matcha Set", "1200", publishedAgo: TimeSpan.FromDays(3));
        var sakura = _store.AddProduct("Sakura Cream", "800", compareAtPrice: "1000", publishedAgo: TimeSpan.FromDays(2));
        var draft = _store.AddProduct("Draft Tea", "500", status: "DRAFT");
        _store.AddProduct("Hidden Soap", "300", compareAtPrice: "900", published: false);
        var soldOut = _store.AddProduct("Sold-out Yuzu", "600", compareAtPrice: "900", inventory: 0);
        var hinoki = _store.AddProduct("New Hinoki", "2000", publishedAgo: TimeSpan.FromHours(1));
        var now = DateTimeOffset.UtcNow;
        ShopifyState.AddOrder(_store.Shop, now.AddDays(-1), (sakura, 3), (matcha, 1));
        ShopifyState.AddOrder(_store.Shop, now.AddDays(-2), (sakura, 2), (matcha, 1));
        ShopifyState.AddOrder(_store.Shop, now.AddDays(-1), (draft, 9));                       // not on sale: left out
        ShopifyState.AddOrder(_store.Shop, now.AddDays(-1), (soldOut, 7));                     // out of stock: left out
        ShopifyState.AddOrder(_store.Shop, now.AddDays(-1), (hinoki, 50))["cancelledAt"] = ShopifyState.Iso(now); // cancelled: not counted
        ShopifyState.AddOrder(_store.Shop, now.AddDays(-45), (hinoki, 40));                    // before the 30-day window

        var store = await _store.InstallAsync();

        Assert.Equal((true, "JPY", 6), (store["installed"]!.GetValue<bool>(), store["currency"]!.GetValue<string>(), store["productsSynced"]!.GetValue<int>()));
        Assert.Equal(["Sakura Cream", "Matcha Set"], ShopifyStoreScenario.Names(store, "best-sellers"));
        Assert.Equal(["New Hinoki", "Sakura Cream", "Matcha Set"], ShopifyStoreScenario.Names(store, "newest"));
        Assert.Equal(["Sakura Cream"], ShopifyStoreScenario.Names(store, "on-sale"));
        var secrets = _store.Scenario.App.Service<ISecretStore>();
        Assert.StartsWith("shpat_", await secrets.GetIfExistsAsync(SecretNames.ShopifyAccessToken(_store.Scenario.WorkspaceId)));
    }

    [Fact]
    public async Task AFeedCardSentFromAFlowShowsTheFeedInTheStoreCurrencyAndReadsOneRowWithoutCallingShopify()
    {
        var counter = new StorageRequestCounter { OnlyRequestsTo = "/api/flow/" }; // the send itself, not the queued push of an earlier one
        await _store.DisposeAsync();
        _store = await ShopifyStoreScenario.StartAsync(counter: counter);
        var matcha = _store.AddProduct("Matcha Set", "1200");
        var sakura = _store.AddProduct("Sakura Cream", "800", compareAtPrice: "1000");
        ShopifyState.AddOrder(_store.Shop, DateTimeOffset.UtcNow.AddHours(-2), (sakura, 3), (matcha, 1));
        await _store.InstallAsync();
        var (user, _) = await _store.Scenario.LinkedFriendAsync("Aiko");
        var messageId = await _store.CreateFeedCardAsync("best-sellers", currency: "USD");
        var textId = (await (await _store.Scenario.Admin.PostAsJsonAsync($"/api/manage/workspaces/{_store.Scenario.WorkspaceId}/messages",
            new { name = "Plain", messages = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Hello" }), trackOpensAndClicks = false })).Content.ReadFromJsonAsync<JsonObject>())!.Id();
        // Warm: the Flow key read and the tables created once per process are not a send's cost.
        Assert.Equal(HttpStatusCode.Accepted, (await _store.FlowSendAsync(textId, user.UserId, "evt-warm")).StatusCode);
        counter.Reset();
        Assert.Equal(HttpStatusCode.Accepted, (await _store.FlowSendAsync(textId, user.UserId, "evt-0")).StatusCode);
        var textSendOperations = counter.Total;
        output.WriteLine($"Text send: {counter.Breakdown}");
        var queriesBefore = _store.Sandbox.PointsCharged.GetValueOrDefault(_store.Shop.Domain);

        counter.Reset();
        Assert.Equal(HttpStatusCode.Accepted, (await _store.FlowSendAsync(messageId, user.UserId, "evt-1")).StatusCode);

        // A ten-product card costs the send one point read more than a text: the feed's precomputed row.
        output.WriteLine($"Table requests of a Flow send: text {textSendOperations}, feed card {counter.Total} ({counter.Breakdown})");
        Assert.Equal(textSendOperations + 1, counter.Total);
        Assert.Equal(1, counter.Requests(TableNames.ShopifyFeeds, "GET"));
        Assert.Equal(0, counter.Requests(TableNames.ShopifyProducts, "GET"));
        Assert.Equal(queriesBefore, _store.Sandbox.PointsCharged.GetValueOrDefault(_store.Shop.Domain)); // no Shopify call per send
        var pushes = await Eventually.MatchesAsync(() => Task.FromResult(_store.Scenario.Tenant.Channel.PushesTo(user.UserId).ToList()), p => p.Count > 2);
        var bubbles = Bubbles(pushes[2].Messages);
        Assert.Equal(["Sakura Cream", "Matcha Set"], bubbles.Select(Name));
        Assert.Equal(["¥800", "¥1,200"], bubbles.Select(Price)); // the store's currency, not the card's USD
        Assert.Equal($"https://{_store.Shop.Domain}/products/{sakura["handle"]}", bubbles[0]["footer"]!["contents"]![0]!["action"]!["uri"]!.GetValue<string>());
    }

    [Fact]
    public async Task AStoreWithNoSalesHasNoBestSellersAndTheCardShowsItsFallback()
    {
        _store.AddProduct("Matcha Set", "1200");
        var store = await _store.InstallAsync();
        var (user, _) = await _store.Scenario.LinkedFriendAsync("Ben");

        Assert.Empty(ShopifyStoreScenario.Names(store, "best-sellers"));
        Assert.Equal(["Matcha Set"], ShopifyStoreScenario.Names(store, "newest"));
        var preview = await (await _store.Scenario.Admin.PostAsJsonAsync(
            $"/api/manage/workspaces/{_store.Scenario.WorkspaceId}/messages/{await _store.CreateFeedCardAsync("best-sellers")}/preview", new { })).Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(preview!["usedFallback"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Accepted, (await _store.FlowSendAsync(await _store.CreateFeedCardAsync("best-sellers"), user.UserId, "evt-2")).StatusCode);
        var pushes = await Eventually.MatchesAsync(() => Task.FromResult(_store.Scenario.Tenant.Channel.PushesTo(user.UserId).ToList()), p => p.Count > 0);
        Assert.Equal(["Gift card"], Bubbles(pushes[0].Messages).Select(Name));
        Assert.Equal("$3,000.00", Price(Bubbles(pushes[0].Messages)[0])); // a fallback keeps the card's currency
    }

    [Fact]
    public async Task ProductWebhooksKeepTheFeedsCurrentAndForgedOrUnknownOnesChangeNothing()
    {
        var matcha = _store.AddProduct("Matcha Set", "1200", publishedAgo: TimeSpan.FromDays(3));
        var sakura = _store.AddProduct("Sakura Cream", "800", compareAtPrice: "1000", publishedAgo: TimeSpan.FromDays(2));
        var hinoki = _store.AddProduct("Hinoki Oil", "2000", publishedAgo: TimeSpan.FromDays(1));
        await _store.InstallAsync();
        var control = _store.Browser;

        // A forged delete of Sakura: refused, and nothing is queued.
        var forged = await _store.PostWebhookAsync("products/delete", new JsonObject { ["id"] = ShopifyStoreScenario.IdOf(sakura) }, "bm90IHRoZSByaWdodCBzaWduYXR1cmU=");
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        // A correctly signed webhook of a store nobody installed: 400.
        var unknown = await _store.PostWebhookAsync("products/update", new JsonObject { ["id"] = 1 }, shop: "nobody-here.myshopify.com");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);

        // Matcha goes on sale, Hinoki is deleted: the webhooks reach Lumo (200) and the feeds follow.
        var update = await control.PatchAsJsonAsync($"/sandbox/shopify/shops/{_store.Shop.Domain}/products/{ShopifyStoreScenario.IdOf(matcha)}", new { price = "900", compareAtPrice = "1200" });
        Assert.Equal([200], (await update.Content.ReadFromJsonAsync<JsonObject>())!["deliveries"]!.AsArray().Select(d => d!["status"]!.GetValue<int>()));
        var delete = await control.DeleteAsync($"/sandbox/shopify/shops/{_store.Shop.Domain}/products/{ShopifyStoreScenario.IdOf(hinoki)}");
        Assert.Equal([200], (await delete.Content.ReadFromJsonAsync<JsonObject>())!["deliveries"]!.AsArray().Select(d => d!["status"]!.GetValue<int>()));

        var store = await Eventually.MatchesAsync(() => _store.Scenario.Admin.GetFromJsonAsync<JsonObject>(_store.StorePath),
            s => ShopifyStoreScenario.Names(s!, "newest").SequenceEqual(["Sakura Cream", "Matcha Set"]) && ShopifyStoreScenario.Names(s!, "on-sale").Count == 2);
        Assert.Equal(["Matcha Set", "Sakura Cream"], ShopifyStoreScenario.Names(store!, "on-sale")); // 25 % off before 20 % off
        Assert.Contains("Sakura Cream", ShopifyStoreScenario.Names(store!, "newest")); // the forged delete did nothing

        // Shopify's retry of the same update changes nothing more: the product is read again and is no newer.
        var delivered = _store.Sandbox.Webhooks.Last(w => w.Topic == "products/update");
        Assert.Equal(HttpStatusCode.OK, (await _store.PostWebhookAsync("products/update", JsonNode.Parse(delivered.Body)!.AsObject())).StatusCode);
    }

    [Fact]
    public async Task ThrottledQueriesAreWaitedOutAndTheSyncCompletes()
    {
        await _store.DisposeAsync();
        _store = await ShopifyStoreScenario.StartAsync(plan: new ShopifyPlan("small", 1_000, 500));
        for (var i = 0; i < 150; i++) _store.AddProduct($"Product {i:D3}", "100");
        // Another process of the app keeps spending the store's bucket until one of Lumo's queries is throttled.
        var bucket = _store.Sandbox.BucketOf(_store.App, _store.Shop);
        var competing = Task.Run(async () =>
        {
            for (var i = 0; i < 400 && _store.Sandbox.Throttled.GetValueOrDefault(_store.Shop.Domain) == 0; i++)
            {
                bucket.Drain();
                await Task.Delay(25);
            }
        });

        var store = await _store.InstallAsync();
        await competing;

        Assert.Equal(150, store["productsSynced"]!.GetValue<int>());
        Assert.True(_store.Sandbox.Throttled.GetValueOrDefault(_store.Shop.Domain) >= 1, "the first query met the empty bucket");
        Assert.Equal(10, ShopifyStoreScenario.Names(store, "newest").Count);
    }

    [Fact]
    public async Task AFullSyncLongerThanOneInvocationHandsOverToTheQueueAndFinishes()
    {
        var (workspaceId, connections) = await InstalledStoreWhoseFullSyncStartsOverAsync();
        var sync = _store.Scenario.App.Service<ShopifyProductSync>();
        sync.RunBudget = TimeSpan.Zero; // one page, then hand over

        Assert.False(await sync.SyncAsync(workspaceId, default));
        var handedOver = (await connections.GetIfExistsAsync(workspaceId, default))!;
        Assert.Equal((false, ShopifyProductSync.PageSize), (handedOver.FullSyncDone, handedOver.Products));
        Assert.NotNull(handedOver.FullSyncCursor);

        // The queued continuation goes on from the saved cursor: every product counted once.
        var store = await _store.FeedsSettledAsync(s => s["fullSyncDone"]!.GetValue<bool>() && s["productsSynced"]!.GetValue<int>() == 130);
        Assert.Equal(10, ShopifyStoreScenario.Names(store, "newest").Count);
    }

    [Fact]
    public async Task AContinuationTakenWhileTheStoreIsStillHeldTriesAgainAndTheFullSyncFinishes()
    {
        var (workspaceId, _) = await InstalledStoreWhoseFullSyncStartsOverAsync();

        // The worker that handed over has not let go of the store yet when its continuation is taken (a CI run once
        // waited 60 s for a full sync whose continuation had been dropped this way).
        await using (var stillHeld = await _store.Scenario.App.Service<LeaseStore>().HoldAsync("shopify-sync", workspaceId, "the-worker-that-handed-over", TimeSpan.FromMinutes(1), default))
        {
            Assert.NotNull(stillHeld);
            Assert.False(await _store.Scenario.App.Service<ShopifyProductSync>().SyncAsync(workspaceId, default));
        }

        var store = await _store.FeedsSettledAsync(s => s["fullSyncDone"]!.GetValue<bool>() && s["productsSynced"]!.GetValue<int>() == 130);
        Assert.Equal(10, ShopifyStoreScenario.Names(store, "newest").Count);
    }

    [Fact]
    public async Task ASalesCountsContinuationTakesTheLeaseOverFromTheWorkerThatHandedOverAndCountsEachOrderOnce()
    {
        var (workspaceId, countedAt) = await SalesCountHandedOverAfterItsFirstPageAsync();
        var feedBuilder = _store.Scenario.App.Service<ShopifyFeedBuilder>();

        // The worker that queued the continuation has not let go of the store yet when the continuation is taken.
        await using (var stillHeld = await _store.Scenario.App.Service<LeaseStore>().HoldAsync("shopify-sales", workspaceId, "the-worker-that-handed-over", TimeSpan.FromMinutes(1), default))
        {
            Assert.NotNull(stillHeld);
            Assert.True(await feedBuilder.CountSalesAsync(workspaceId, default, handoverFrom: "the-worker-that-handed-over"));
        }
        await feedBuilder.RebuildAsync(workspaceId, null, default); // as the queue's worker does after a count

        await SalesCountFinishedAsync(countedAt);
    }

    [Fact]
    public async Task ASalesCountsContinuationThatFindsTheStoreHeldByAnotherCountTriesAgainAndTheCountFinishes()
    {
        var (workspaceId, countedAt) = await SalesCountHandedOverAfterItsFirstPageAsync();

        await using (var another = await _store.Scenario.App.Service<LeaseStore>().HoldAsync("shopify-sales", workspaceId, "another-worker", TimeSpan.FromMinutes(1), default))
        {
            Assert.NotNull(another);
            Assert.False(await _store.Scenario.App.Service<ShopifyFeedBuilder>().CountSalesAsync(workspaceId, default, handoverFrom: "the-worker-that-handed-over"));
        }

        // Dropped, the count would wait for the hourly recount (off in tests): it is tried again 10 s later.
        await SalesCountFinishedAsync(countedAt);
    }

    // Matcha sold once in each of the first 10 orders (the first page of a count), Sakura once in each of the next 15;
    // installed (and counted), then a new count as the worker that handed over after its first page left it.
    private async Task<(string WorkspaceId, DateTimeOffset CountedAt)> SalesCountHandedOverAfterItsFirstPageAsync()
    {
        var matcha = _store.AddProduct("Matcha Set", "1200");
        var sakura = _store.AddProduct("Sakura Cream", "800");
        var now = DateTimeOffset.UtcNow;
        var firstPage = Enumerable.Range(0, 10).Select(_ => ShopifyState.AddOrder(_store.Shop, now.AddDays(-1), (matcha, 1))).ToList();
        for (var i = 0; i < 15; i++) ShopifyState.AddOrder(_store.Shop, now.AddDays(-1), (sakura, 1));
        await _store.InstallAsync();
        var workspaceId = _store.Scenario.WorkspaceId;
        // The sandbox's cursor after an order, as a page of orders by id ends with it.
        var cursor = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(ShopifyState.NumericId(firstPage[^1]["id"]!.GetValue<string>()).ToString("D20")));
        var countedAt = DateTimeOffset.UtcNow;
        await _store.Scenario.App.Service<ShopifyFeedStore>().SaveSalesProgressAsync(workspaceId, cursor, countedAt,
            new Dictionary<long, long> { [ShopifyState.NumericId(matcha["id"]!.GetValue<string>())] = 10 }, default);
        return (workspaceId, countedAt);
    }

    // The count handed over is finished: Sakura (15) ahead of Matcha (10); a first page counted twice would put Matcha (20) first.
    private async Task SalesCountFinishedAsync(DateTimeOffset countedAt)
    {
        var store = await _store.FeedsSettledAsync(s => s["salesCountedAt"]!.GetValue<DateTimeOffset>() >= countedAt.AddMilliseconds(-1));
        Assert.Equal(["Sakura Cream", "Matcha Set"], ShopifyStoreScenario.Names(store, "best-sellers"));
    }

    // 130 products installed and synced, then the full sync reset as a re-install leaves it: it starts over.
    private async Task<(string WorkspaceId, ShopifyConnectionStore Connections)> InstalledStoreWhoseFullSyncStartsOverAsync()
    {
        for (var i = 0; i < 130; i++) _store.AddProduct($"Product {i:D3}", "100");
        await _store.InstallAsync();
        var workspaceId = _store.Scenario.WorkspaceId;
        var connections = _store.Scenario.App.Service<ShopifyConnectionStore>();
        var connection = (await connections.GetIfExistsAsync(workspaceId, default))!;
        await connections.SaveAsync(connection with { FullSyncDone = false, FullSyncCursor = null, FullSyncStartedAt = null, Products = 0, ETag = default }, default);
        return (workspaceId, connections);
    }

    [Fact]
    public async Task ADeletedProductDoesNotComeBackFromAReadMadeBeforeItsDeletion()
    {
        var workspaceId = _store.Scenario.WorkspaceId;
        var products = _store.Scenario.App.Service<ShopifyProductStore>();
        var now = DateTimeOffset.UtcNow;
        var readBefore = new ShopifyProduct(7001, "Yuzu Soap", "https://shop.example/products/yuzu", null, 500m, null, true, true, now.AddDays(-1), now.AddMinutes(-5));
        Assert.True(await products.WriteIfNewerAsync(workspaceId, readBefore, default));
        Assert.True(await products.DeleteAsync(workspaceId, readBefore.Id, default));

        // A full sync's page and a webhook's re-read, both read before the delete, are written after it.
        await products.WriteFullSyncPageAsync(workspaceId, [readBefore, readBefore with { Id = 7002, Title = "Hinoki Oil" }], default);
        Assert.False(await products.WriteIfNewerAsync(workspaceId, readBefore, default));

        var kept = new List<string>();
        await foreach (var product in products.ScanAsync(workspaceId, default)) kept.Add(product.Title);
        Assert.Equal(["Hinoki Oil"], kept);
        Assert.False(await products.DeleteAsync(workspaceId, readBefore.Id, default)); // a repeated delete webhook: nothing was there
    }

    [Fact]
    public async Task OfTwoFeedBuildsTheOneThatStartedLaterWinsWhicheverWritesLast()
    {
        var workspaceId = _store.Scenario.WorkspaceId;
        var feeds = _store.Scenario.App.Service<ShopifyFeedStore>();
        var later = DateTimeOffset.UtcNow;
        ShopifyProduct Named(string title) => new(1, title, "https://shop.example/products/p", null, 100m, null, true, true, later, later);

        await feeds.SaveAsync(workspaceId, Lumo.Core.ProductCards.ProductFeed.Newest, [Named("From the later build")], "JPY", later, default);
        await feeds.SaveAsync(workspaceId, Lumo.Core.ProductCards.ProductFeed.Newest, [Named("From the earlier build")], "JPY", later.AddMilliseconds(-30), default);

        var feed = await feeds.ReadAsync(workspaceId, Lumo.Core.ProductCards.ProductFeed.Newest, default);
        Assert.Equal(["From the later build"], feed.Products.Select(p => p.Name));
        Assert.Equal(later, feed.BuiltAt);
    }

    [Fact]
    public async Task AQueryAnsweredThrottledIsSentAgainOnceTheBucketHasRestoredAndAnswers()
    {
        _store.AddProduct("Matcha Set", "1200");
        await _store.InstallAsync();
        Assert.True(ShopDomain.TryParse(_store.Shop.Domain, out var shop));
        var token = SecretNames.InUse(await _store.Scenario.App.Service<ISecretStore>().GetIfExistsAsync(SecretNames.ShopifyAccessToken(_store.Scenario.WorkspaceId)))!;
        var throttledBefore = _store.Sandbox.Throttled.GetValueOrDefault(_store.Shop.Domain);
        // Another process of the app has just spent the bucket: Lumo's pacer still thinks it is full.
        _store.Sandbox.BucketOf(_store.App, _store.Shop).Drain();

        // 52 points: the bucket needs about a second to restore them.
        var data = await _store.Scenario.App.Service<ShopifyClient>().QueryAsync(shop, token, "{ products(first: 50) { nodes { title } } }", null, 52, default);

        Assert.Equal(["Matcha Set"], data["products"]!["nodes"]!.AsArray().Select(n => n!["title"]!.GetValue<string>()));
        Assert.True(_store.Sandbox.Throttled.GetValueOrDefault(_store.Shop.Domain) > throttledBefore, "the first attempt met the empty bucket");
    }
}
