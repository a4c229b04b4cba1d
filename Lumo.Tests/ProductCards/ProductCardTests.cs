using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.ProductCards;

/// <summary>
/// Product cards in Auto Send Messages: the Get JSON body rendered as Klaviyo renders it for realistic trigger events
/// (fixtures of Klaviyo's Shopify integration and of its tracking API), posted as a Flow webhook, and the Flex
/// carousel LINE received.
/// </summary>
public sealed class ProductCardTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private string _flowKey = null!;

    public async Task InitializeAsync()
    {
        _scenario = await WorkspaceScenario.StartAsync();
        _flowKey = await _scenario.FlowKeyAsync();
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private HttpClient Admin => _scenario.Admin;
    private string MessagesPath => $"/api/manage/workspaces/{_scenario.WorkspaceId}/messages";

    private static JsonObject Fixture(string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "klaviyo-events", name)))!.AsObject();

    private static JsonObject Card(string template, string currency = "JPY", int maxProducts = 10, JsonArray? fallback = null) => new()
    {
        ["type"] = "products", ["title"] = "Still thinking it over?", ["text"] = "Your picks are waiting: {{cart_url}}", ["buttonLabel"] = "Buy now",
        ["maxProducts"] = maxProducts, ["imageAspect"] = "1:1", ["currency"] = currency,
        ["source"] = new JsonObject { ["type"] = "trigger", ["template"] = template }, ["fallback"] = fallback ?? [],
    };

    // Tracking is off so that the links LINE received are the ones the event carried.
    private async Task<string> CreateMessageAsync(params JsonObject[] messages)
    {
        var response = await Admin.PostAsJsonAsync(MessagesPath, new { name = "Cart card", messages = new JsonArray(messages), trackOpensAndClicks = false });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!.Id();
    }

    // What Klaviyo does with a Flow webhook action: render Get JSON's body for the profile and the triggering event.
    private async Task<string> RenderGetJsonAsync(string messageId, LineUser user, JsonObject eventProperties, Dictionary<string, JsonObject>? catalog = null)
    {
        var flowJson = (await Admin.GetFromJsonAsync<JsonObject>($"{MessagesPath}/{messageId}/flow-json?account={_scenario.AccountId}"))!;
        var person = new JsonObject { ["LINE User ID"] = user.UserId, ["first_name"] = "Aiko" };
        return FlowWebhookTemplate.Render(flowJson["body"]!.GetValue<string>(), person, eventProperties, catalog);
    }

    private Task<HttpResponseMessage> PostFlowAsync(string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{_scenario.WorkspaceId}/send") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add(FlowKeys.HeaderName, _flowKey);
        return _scenario.Client.SendAsync(request);
    }

    private async Task<JsonArray> ReceivedAsync(LineUser user) =>
        (await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Channel.PushesTo(user.UserId).ToList()), p => p.Count > 0))[0].Messages;

    private static List<JsonObject> Bubbles(JsonArray messages) => messages[1]!["contents"]!["contents"]!.AsArray().Select(b => b!.AsObject()).ToList();
    private static string Name(JsonObject bubble) => bubble["body"]!["contents"]![0]!["text"]!.GetValue<string>();
    private static string? Price(JsonObject bubble, int index = 0) => bubble["body"]!["contents"]!.AsArray().ElementAtOrDefault(1)?["contents"]?[index]?["text"]?.GetValue<string>();
    private static string? Image(JsonObject bubble) => bubble["hero"]!["type"]!.GetValue<string>() == "image" ? bubble["hero"]!["url"]!.GetValue<string>() : null;
    private static string Button(JsonObject bubble) => bubble["footer"]!["contents"]![0]!["action"]!["uri"]!.GetValue<string>();

    [Fact]
    public async Task AnAbandonedShopifyCartArrivesAsACarouselWhateverItsNamesHoldAndAKlaviyoRetrySendsNothingMore()
    {
        var (user, _) = await _scenario.LinkedFriendAsync("Aiko");
        var messageId = await CreateMessageAsync(Card("abandoned-cart"));
        var body = await RenderGetJsonAsync(messageId, user, Fixture("checkout-started-shopify.json"));

        JsonNode.Parse(body); // quotes, a newline, emoji, Japanese and HTML in the names: still valid JSON
        var first = await PostFlowAsync(body);
        var retry = await PostFlowAsync(body); // Klaviyo's retry of the same trigger

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.True(retry.IsSuccessStatusCode);
        var messages = await ReceivedAsync(user);
        const string recovery = "https://lumo-demo.myshopify.com/58291/checkouts/9b1f2c/recover?key=3f9a";
        Assert.Equal($"Still thinking it over?\nYour picks are waiting: {recovery}", messages[0]!["text"]!.GetValue<string>());
        var bubbles = Bubbles(messages);
        Assert.Equal(["\"Sakura\" Hand Cream 桜 🌸 — limited éditi…", "Yuzu & Hinoki Soap Gift Set", "Matcha Lip Balm"], bubbles.Select(Name));
        Assert.Equal(["¥2,400", "¥1,880", "¥800"], bubbles.Select(b => Price(b)));
        // A protocol-relative Shopify image gets its scheme; a WebP image and a missing one get the placeholder.
        Assert.Equal(["https://cdn.shopify.com/s/files/1/0582/files/sakura.jpg?v=1700000000", null, null], bubbles.Select(Image));
        Assert.All(bubbles, b => Assert.Equal(recovery, Button(b)));
        Assert.Equal("https://lumo-demo.myshopify.com/products/sakura-hand-cream", bubbles[0]["hero"]!["action"]!["uri"]!.GetValue<string>());

        // Nothing else reached LINE: a later marker arrives alone after the card, and no retry key was repeated.
        await _scenario.Admin.PostAsJsonAsync($"{_scenario.AccountPath()}/test-send", new { userId = user.UserId, message = await CreateMessageAsync(new JsonObject { ["type"] = "text", ["text"] = "marker" }) });
        var all = await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Channel.PushesTo(user.UserId).ToList()), p => p.Count >= 2);
        Assert.Equal(["Still thinking it over?", "marker"], all.Select(p => p.Messages[0]!["text"]!.GetValue<string>().Split('\n')[0]));
        Assert.Equal(0, _scenario.Tenant.Channel.RetryKeyRepeats);
    }

    [Fact]
    public async Task AnApiStartedCheckoutUsesItsItemsAndCheckoutUrlInTheCardsCurrency()
    {
        var (user, _) = await _scenario.LinkedFriendAsync("Ben");
        var messageId = await CreateMessageAsync(Card("abandoned-cart", currency: "USD"));

        Assert.Equal(HttpStatusCode.Accepted, (await PostFlowAsync(await RenderGetJsonAsync(messageId, user, Fixture("started-checkout-api.json")))).StatusCode);

        var bubbles = Bubbles(await ReceivedAsync(user));
        Assert.Equal(["Winnie the \"Pooh\"", "A Tale of Two Cities"], bubbles.Select(Name));
        Assert.Equal(["$9.99", "$19.99"], bubbles.Select(b => Price(b)));
        Assert.Equal(["https://www.example.com/path/to/product/image.png", null], bubbles.Select(Image)); // LINE shows no plain-http image
        Assert.All(bubbles, b => Assert.Equal("https://www.example.com/path/to/checkout?cart=abc", Button(b)));
    }

    [Fact]
    public async Task ABrowseReminderShowsTheViewedProductWithItsSalePrice()
    {
        var (user, _) = await _scenario.LinkedFriendAsync("Chika");
        var messageId = await CreateMessageAsync(Card("browse"));

        Assert.Equal(HttpStatusCode.Accepted, (await PostFlowAsync(await RenderGetJsonAsync(messageId, user, Fixture("viewed-product-shopify.json")))).StatusCode);

        var bubble = Assert.Single(Bubbles(await ReceivedAsync(user)));
        Assert.Equal("抹茶ラテ \"Premium\" セット 🍵 (6 sticks)", Name(bubble));
        Assert.Equal(("¥1,200", "¥1,500"), (Price(bubble), Price(bubble, 1)));
        Assert.Equal("line-through", bubble["body"]!["contents"]![1]!["contents"]![1]!["decoration"]!.GetValue<string>());
        Assert.Equal("https://lumo-demo.myshopify.com/products/matcha-latte-set", Button(bubble));
    }

    [Fact]
    public async Task ABackInStockCardShowsTheCatalogItemInQuestion()
    {
        var (user, _) = await _scenario.LinkedFriendAsync("Daichi");
        var messageId = await CreateMessageAsync(Card("low-stock"));
        var catalog = Fixture("catalog-items.json").ToDictionary(p => p.Key, p => p.Value!.AsObject());

        Assert.Equal(HttpStatusCode.Accepted, (await PostFlowAsync(await RenderGetJsonAsync(messageId, user, Fixture("subscribed-to-back-in-stock.json"), catalog))).StatusCode);
        // Klaviyo retries the same trigger after the item's price changed: the body differs, the send does not.
        catalog["8012345690"]["metadata"]!["price"] = 1980.0;
        var retry = await PostFlowAsync(await RenderGetJsonAsync(messageId, user, Fixture("subscribed-to-back-in-stock.json"), catalog));

        Assert.True(retry.IsSuccessStatusCode);
        var bubble = Assert.Single(Bubbles(await ReceivedAsync(user)));
        Assert.Equal("Hinoki Bath Salts 檜 — \"Forest\" edition", Name(bubble));
        Assert.Equal("¥2,200", Price(bubble));
        Assert.Equal("https://cdn.shopify.com/s/files/1/0582/files/hinoki.jpg?v=1700000003", Image(bubble));
        await _scenario.Admin.PostAsJsonAsync($"{_scenario.AccountPath()}/test-send", new { userId = user.UserId, message = await CreateMessageAsync(new JsonObject { ["type"] = "text", ["text"] = "marker" }) });
        var all = await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Channel.PushesTo(user.UserId).ToList()), p => p.Count >= 2);
        Assert.Equal("marker", all[1].Messages[0]!["text"]!.GetValue<string>());
        Assert.Equal(0, _scenario.Tenant.Channel.RetryKeyRepeats);
    }

    [Fact]
    public async Task ACartOf200OddItemsStillSendsAValidCardOfAtMostMaxProducts()
    {
        var (user, _) = await _scenario.LinkedFriendAsync("Emi");
        var messageId = await CreateMessageAsync(Card("abandoned-cart", maxProducts: 4));
        var items = new JsonArray(Enumerable.Range(1, 200).Select(i => (JsonNode)new JsonObject
        {
            ["title"] = $"<script>alert('{i}')</script>Item \\ {i} \"quoted\"", ["price"] = i % 2 == 0 ? "abc" : $"{i}00",
            ["product"] = new JsonObject { ["title"] = i == 1 ? "" : null, ["images"] = new JsonArray() },
        }).ToArray());
        var cart = new JsonObject { ["$extra"] = new JsonObject { ["line_items"] = items } };

        var body = await RenderGetJsonAsync(messageId, user, cart);
        Assert.True(body.Length < 64 * 1024, "The template takes at most 10 items, so a huge cart stays within the Flow body limit.");
        Assert.Equal(HttpStatusCode.Accepted, (await PostFlowAsync(body)).StatusCode);

        var bubbles = Bubbles(await ReceivedAsync(user));
        Assert.Equal(4, bubbles.Count);
        Assert.Equal("alert('1') Item \\ 1 \"quoted\"", Name(bubbles[0])); // tags gone, their text kept
        Assert.Equal([ "¥100", null, "¥300", null ], bubbles.Select(b => Price(b))); // an unreadable price is left out
        Assert.All(bubbles, b => Assert.Null(b["footer"])); // no link anywhere: no button
    }

    [Fact]
    public async Task WithoutTriggerProductsTheFallbacksShowAndWithoutThemTheTextGoesAlone()
    {
        var (withFallback, _) = await _scenario.LinkedFriendAsync("Fumi");
        var (textOnly, _) = await _scenario.LinkedFriendAsync("Gen");
        var fallback = new JsonArray(new JsonObject { ["name"] = "Gift card", ["url"] = "https://shop.example.com/gift", ["price"] = "3000", ["imageUrl"] = "https://cdn.example.com/gift.png" });
        var cardWithFallback = await CreateMessageAsync(Card("browse", fallback: fallback));
        var cardAlone = await CreateMessageAsync(Card("browse"));
        var emptyEvent = new JsonObject { ["$event_id"] = "nothing-viewed" };

        Assert.Equal(HttpStatusCode.Accepted, (await PostFlowAsync(await RenderGetJsonAsync(cardWithFallback, withFallback, emptyEvent))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostFlowAsync(await RenderGetJsonAsync(cardAlone, textOnly, emptyEvent))).StatusCode);

        var bubble = Assert.Single(Bubbles(await ReceivedAsync(withFallback)));
        Assert.Equal(("Gift card", "¥3,000", "https://cdn.example.com/gift.png"), (Name(bubble), Price(bubble), Image(bubble)));
        var alone = await ReceivedAsync(textOnly);
        Assert.Equal("text", Assert.Single(alone)!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task RefusesCardsLineCouldNotShowNamingEachProblemAndSavesNothing()
    {
        var badFallback = new JsonArray(new JsonObject { ["name"] = "Soap", ["url"] = "javascript:alert(1)", ["imageUrl"] = "https://cdn.example.com/a.gif", ["price"] = "free" });
        var response = await Admin.PostAsJsonAsync(MessagesPath, new
        {
            name = "Bad cards",
            messages = new JsonArray(
                Card("abandoned-cart", maxProducts: 11, fallback: badFallback),
                new JsonObject { ["type"] = "products", ["title"] = "", ["buttonLabel"] = new string('b', 21), ["currency"] = "yen", ["source"] = new JsonObject { ["type"] = "trigger", ["template"] = "wishlist" } }),
        });
        var tooMany = await Admin.PostAsJsonAsync(MessagesPath, new { name = "Three cards", messages = new JsonArray(Card("browse"), Card("browse"), Card("browse")) });
        var feedCard = Card("browse");
        feedCard["source"] = new JsonObject { ["type"] = "feed", ["feed"] = "most-viewed" };
        var feed = await Admin.PostAsJsonAsync(MessagesPath, new { name = "Feed", messages = new JsonArray(feedCard) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var fields = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key).ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            "messages[0].maxProducts", "messages[0].fallback[0].url", "messages[0].fallback[0].imageUrl", "messages[0].fallback[0].price",
            "messages[1].title", "messages[1].buttonLabel", "messages[1].currency", "messages[1].source.template",
        }, fields);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, feed.StatusCode);
        Assert.Contains("messages[0].source.feed", (await feed.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Empty((await Admin.GetFromJsonAsync<JsonArray>(MessagesPath))!);
    }

    [Fact]
    public async Task APreviewShowsTheCarouselAFlowWouldSendAndATestSendWithTheEventDeliversIt()
    {
        var (user, _) = await _scenario.LinkedFriendAsync("Hana");
        var messageId = await CreateMessageAsync(Card("abandoned-cart"));
        var cart = Fixture("checkout-started-shopify.json");

        var preview = (await (await Admin.PostAsJsonAsync($"{MessagesPath}/{messageId}/preview", new { @event = cart })).Content.ReadFromJsonAsync<JsonObject>())!;
        var testSend = await Admin.PostAsJsonAsync($"{_scenario.AccountPath()}/test-send", new { userId = user.UserId, message = messageId, @event = cart });

        Assert.Equal(3, preview["products"]!.GetValue<int>());
        Assert.False(preview["usedFallback"]!.GetValue<bool>());
        Assert.Empty(preview["problems"]!.AsObject());
        Assert.Equal(HttpStatusCode.Accepted, testSend.StatusCode);
        // What the preview shows is what LINE receives (tracking is off for this message).
        Assert.True(JsonNode.DeepEquals(preview["messages"], await ReceivedAsync(user)), "The preview and the test send differ.");
    }

    [Fact]
    public async Task AFlowBodyWithAMalformedTriggerIsRefusedAndNothingIsSent()
    {
        var (user, _) = await _scenario.LinkedFriendAsync("Iori");
        var messageId = await CreateMessageAsync(Card("abandoned-cart"));
        var body = new JsonObject
        {
            ["to"] = user.UserId, ["account"] = _scenario.AccountId, ["message"] = messageId, ["idempotencyKey"] = "evt-1",
            ["trigger"] = new JsonObject { ["encoding"] = "rot13", ["products"] = new JsonArray() },
        };

        var response = await PostFlowAsync(body.ToJsonString());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["trigger.encoding"]);
        var sends = await Admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{_scenario.WorkspaceId}/sends?recipient={user.UserId}");
        Assert.Empty(sends!);
    }
}
