using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Privacy;
using Lumo.Core.Secrets;
using Lumo.Core.Shopify;
using Lumo.Sandbox.Shopify;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Shopify;

/// <summary>
/// The Shopify app's install and its mandatory webhooks: forged, tampered, replayed and foreign callbacks write
/// nothing; opening the app from Shopify is checked and sent to the workspace; uninstalling forgets the token and
/// the feeds at once (cards fall back); the privacy webhooks are recorded and shop/redact deletes the store's data.
/// </summary>
public sealed class ShopifyInstallTests : IAsyncLifetime
{
    private ShopifyStoreScenario _store = null!;

    public async Task InitializeAsync() => _store = await ShopifyStoreScenario.StartAsync();

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private Task<HttpResponseMessage> GetStoreAsync() => _store.Scenario.Admin.GetAsync(_store.StorePath);

    [Fact]
    public async Task ForgedTamperedReplayedAndForeignCallbacksAreRefusedAndWriteNothing()
    {
        _store.AddProduct("Matcha Set", "1200");
        var approved = await _store.ApproveInstallAsync();
        var query = approved.Query;

        // Tampered: another shop in a signed query, or a signature that is not the app's.
        var otherShop = await _store.CallbackAsync(new Uri(approved, approved.AbsolutePath + query.Replace(_store.Shop.Domain, "evil-store.myshopify.com")));
        var forgedSignature = await _store.CallbackAsync(new Uri(approved, approved.AbsolutePath + System.Text.RegularExpressions.Regex.Replace(query, "hmac=[0-9a-f]{64}", "hmac=" + new string('0', 64))));
        var unsigned = await _store.CallbackAsync(new Uri(approved, approved.AbsolutePath + System.Text.RegularExpressions.Regex.Replace(query, "&hmac=[0-9a-f]{64}", "")));
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized], new[] { otherShop.StatusCode, forgedSignature.StatusCode, unsigned.StatusCode });
        Assert.Equal(HttpStatusCode.NotFound, (await GetStoreAsync()).StatusCode);

        // Correctly signed but not a myshopify.com store: 400 before any state is touched.
        var badShop = ShopifyState.SignedQuery(ShopifyStoreScenario.ClientSecret, new() { ["code"] = "x", ["shop"] = "example.com", ["state"] = "y", ["timestamp"] = "1" });
        Assert.Equal(HttpStatusCode.BadRequest, (await _store.Redirecting.GetAsync($"/api/shopify/callback?{badShop}")).StatusCode);

        // The real one installs; the same callback again finds its state used.
        Assert.Equal(HttpStatusCode.Redirect, (await _store.CallbackAsync(approved)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _store.CallbackAsync(approved)).StatusCode);
        await _store.FeedsSettledAsync();
        Assert.Single(_store.Sandbox.InstallationsByToken.Values, i => i.App == _store.App); // one token exchanged

        // A state Lumo never issued, correctly signed by the app (say, an install started elsewhere): refused.
        var unissued = ShopifyState.SignedQuery(ShopifyStoreScenario.ClientSecret,
            new() { ["code"] = "abc", ["shop"] = _store.Shop.Domain, ["state"] = new string('A', 43), ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString() });
        Assert.Equal(HttpStatusCode.BadRequest, (await _store.Redirecting.GetAsync($"/api/shopify/callback?{unissued}")).StatusCode);
    }

    [Fact]
    public async Task AStoreBelongsToOneWorkspaceAndOpeningTheAppFromShopifyLeadsToIt()
    {
        await _store.InstallAsync();
        // Another workspace on the same app tries to install the same store: refused, the first keeps it.
        var otherId = (await _store.Scenario.Admin.CreateWorkspaceAsync(_store.Scenario.Tenant, "Other")).Id();
        var start = await _store.Scenario.Admin.PostAsJsonAsync($"/api/manage/workspaces/{otherId}/shopify/install", new { shop = _store.Shop.Domain });
        var authorize = new Uri((await start.Content.ReadFromJsonAsync<JsonObject>())!["authorizeUrl"]!.GetValue<string>());
        var form = System.Web.HttpUtility.ParseQueryString(authorize.Query);
        var approved = await _store.Browser.PostAsync(authorize.AbsolutePath, new FormUrlEncodedContent(form.AllKeys.ToDictionary(k => k!, k => form[k]!).Append(new("decision", "install"))));
        Assert.Equal(HttpStatusCode.BadRequest, (await _store.CallbackAsync(approved.Headers.Location!)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _store.Scenario.Admin.GetAsync($"/api/manage/workspaces/{otherId}/shopify")).StatusCode);

        var launch = (await _store.Browser.GetFromJsonAsync<JsonObject>($"/sandbox/shopify/shops/{_store.Shop.Domain}/launch?clientId={_store.App.ClientId}"))!["url"]!.GetValue<string>();
        var opened = await _store.Redirecting.GetAsync(new Uri(launch).PathAndQuery);
        Assert.Equal((HttpStatusCode.Redirect, $"/api/console/w/{_store.Scenario.WorkspaceId}/dashboard"), (opened.StatusCode, opened.Headers.Location!.ToString()));
        var stale = ShopifyState.SignedQuery(ShopifyStoreScenario.ClientSecret,
            new() { ["shop"] = _store.Shop.Domain, ["timestamp"] = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds().ToString() });
        Assert.Equal(HttpStatusCode.BadRequest, (await _store.Redirecting.GetAsync($"/api/shopify/install?{stale}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _store.Redirecting.GetAsync(new Uri(launch).PathAndQuery.Replace("shop=", "shop=x"))).StatusCode);
    }

    [Fact]
    public async Task UninstallingForgetsTokenAndFeedsAndTheComplianceWebhooksAreHandled()
    {
        _store.AddProduct("Matcha Set", "1200");
        await _store.InstallAsync();
        var (user, _) = await _store.Scenario.LinkedFriendAsync("Chie");
        var messageId = await _store.CreateFeedCardAsync("newest");
        var control = _store.Browser;
        var shop = _store.Shop.Domain;

        var uninstall = await control.DeleteAsync($"/sandbox/shopify/shops/{shop}/apps/{_store.App.ClientId}");
        Assert.Equal(200, (await uninstall.Content.ReadFromJsonAsync<JsonObject>())!["delivery"]!["status"]!.GetValue<int>());
        // The uninstall marks the store first, then removes the feeds: done once both show.
        var store = await Eventually.MatchesAsync(() => _store.Scenario.Admin.GetFromJsonAsync<JsonObject>(_store.StorePath),
            s => !s!["installed"]!.GetValue<bool>() && s["feeds"]!.AsArray().All(f => f!["products"]!.GetValue<int>() == 0), because: "the uninstall handled");
        Assert.All(store!["feeds"]!.AsArray(), f => Assert.Equal(0, f!["products"]!.GetValue<int>()));
        Assert.Null(SecretNames.InUse(await _store.Scenario.App.Service<ISecretStore>().GetIfExistsAsync(SecretNames.ShopifyAccessToken(_store.Scenario.WorkspaceId))));
        Assert.Equal(HttpStatusCode.Accepted, (await _store.FlowSendAsync(messageId, user.UserId, "evt-after-uninstall")).StatusCode);
        var pushes = await Eventually.MatchesAsync(() => Task.FromResult(_store.Scenario.Tenant.Channel.PushesTo(user.UserId).ToList()), p => p.Count > 0);
        Assert.Equal("Gift card", pushes[0].Messages[1]!["contents"]!["contents"]![0]!["body"]!["contents"]![0]!["text"]!.GetValue<string>());

        foreach (var topic in new[] { "customers/data_request", "customers/redact" })
        {
            var answer = await control.PostAsync($"/sandbox/shopify/shops/{shop}/apps/{_store.App.ClientId}/compliance?topic={Uri.EscapeDataString(topic)}", null);
            Assert.Equal(200, (await answer.Content.ReadFromJsonAsync<JsonObject>())!["delivery"]!["status"]!.GetValue<int>());
        }
        var redact = await control.PostAsync($"/sandbox/shopify/shops/{shop}/apps/{_store.App.ClientId}/compliance?topic=shop%2Fredact", null);
        Assert.Equal(200, (await redact.Content.ReadFromJsonAsync<JsonObject>())!["delivery"]!["status"]!.GetValue<int>());

        await Eventually.MatchesAsync(GetStoreAsync, r => r.StatusCode == HttpStatusCode.NotFound, because: "shop/redact deletes the store's data");
        var erasures = await Eventually.MatchesAsync(() => _store.Scenario.App.Service<TenantDataErasure>().ListAsync(_store.Scenario.WorkspaceId, CancellationToken.None),
            e => e.Count(x => x.By == "Shopify") == 3);
        Assert.Contains(erasures, e => e.What == $"Shopify store {shop} (shop/redact)" && e.Rows == 1);
        Assert.Contains(erasures, e => e.What.StartsWith("Shopify customers/data_request"));
        // A compliance webhook for the store again (Shopify retries): still 200, nothing left to do.
        var again = await control.PostAsync($"/sandbox/shopify/shops/{shop}/apps/{_store.App.ClientId}/compliance?topic=shop%2Fredact", null);
        Assert.Equal(200, (await again.Content.ReadFromJsonAsync<JsonObject>())!["delivery"]!["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task AnUninstallRaisedBeforeTheCurrentInstallChangesNothing()
    {
        var matcha = _store.AddProduct("Matcha Set", "1200");
        var installed = await _store.InstallAsync();
        var installedAt = installed["installedAt"]!.GetValue<DateTimeOffset>();

        // Shopify delivers, late, the uninstall of an earlier install of the same store.
        var stale = await _store.PostWebhookAsync("app/uninstalled", new JsonObject { ["domain"] = _store.Shop.Domain }, triggeredAt: installedAt.AddMinutes(-5));
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        // Later marker: a price change made after it reaches the feeds (a rebuild keeps feeds only for an installed store).
        var update = await _store.Browser.PatchAsJsonAsync($"/sandbox/shopify/shops/{_store.Shop.Domain}/products/{ShopifyStoreScenario.IdOf(matcha)}", new { price = "900", compareAtPrice = "1200" });
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        var store = await Eventually.MatchesAsync(() => _store.Scenario.Admin.GetFromJsonAsync<JsonObject>(_store.StorePath),
            s => ShopifyStoreScenario.Names(s!, "on-sale").SequenceEqual(["Matcha Set"]));

        Assert.True(store!["installed"]!.GetValue<bool>());
        Assert.NotNull(SecretNames.InUse(await _store.Scenario.App.Service<ISecretStore>().GetIfExistsAsync(SecretNames.ShopifyAccessToken(_store.Scenario.WorkspaceId))));
    }

    [Fact]
    public async Task DeletingTheWorkspaceDeletesItsStoreProductsFeedsAndToken()
    {
        _store.AddProduct("Matcha Set", "1200");
        await _store.InstallAsync();
        var workspaceId = _store.Scenario.WorkspaceId;

        Assert.Equal(HttpStatusCode.NoContent, (await _store.Scenario.Admin.DeleteAsync($"/api/manage/workspaces/{workspaceId}")).StatusCode);

        var connections = _store.Scenario.App.Service<ShopifyConnectionStore>();
        Assert.Null(await connections.GetIfExistsAsync(workspaceId, default));
        Assert.True(ShopDomain.TryParse(_store.Shop.Domain, out var shop));
        Assert.Null(await connections.WorkspaceOfAsync(shop, default));
        var left = 0;
        await foreach (var _ in _store.Scenario.App.Service<ShopifyProductStore>().ScanAsync(workspaceId, default)) left++;
        Assert.Equal(0, left);
        Assert.Empty((await _store.Scenario.App.Service<ShopifyFeedStore>().ReadAsync(workspaceId, Lumo.Core.ProductCards.ProductFeed.Newest, default)).Products);
        Assert.Null(await _store.Scenario.App.Service<ISecretStore>().GetIfExistsAsync(SecretNames.ShopifyAccessToken(workspaceId)));
        // The store's webhooks find no one now.
        Assert.Equal(HttpStatusCode.BadRequest, (await _store.PostWebhookAsync("products/update", new JsonObject { ["id"] = 1 })).StatusCode);
    }

    [Fact]
    public async Task AStoreWhoseTokenShopifyRefusesIsTreatedAsUninstalled()
    {
        _store.AddProduct("Matcha Set", "1200");
        await _store.InstallAsync();
        var secrets = _store.Scenario.App.Service<ISecretStore>();
        var token = SecretNames.InUse(await secrets.GetIfExistsAsync(SecretNames.ShopifyAccessToken(_store.Scenario.WorkspaceId)))!;
        // The app was removed in Shopify and the uninstall webhook never reached Lumo: Shopify no longer knows the token.
        Assert.True(_store.Sandbox.InstallationsByToken.TryRemove(token, out _));

        Assert.Equal(HttpStatusCode.Accepted, (await _store.Scenario.Admin.PostAsync($"{_store.StorePath}/sync", null)).StatusCode);

        var store = await Eventually.MatchesAsync(() => _store.Scenario.Admin.GetFromJsonAsync<JsonObject>(_store.StorePath),
            s => !s!["installed"]!.GetValue<bool>() && s["lastError"] is JsonValue);
        Assert.Equal("Shopify refused the access token: install the app again.", store!["lastError"]!.GetValue<string>());
        Assert.All(store["feeds"]!.AsArray(), f => Assert.Equal(0, f!["products"]!.GetValue<int>()));
        Assert.Null(SecretNames.InUse(await secrets.GetIfExistsAsync(SecretNames.ShopifyAccessToken(_store.Scenario.WorkspaceId))));
    }
}
