using System.Text.Json.Nodes;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Lumo.Sandbox.Shopify;

namespace Lumo.Sandbox.Control;

/// <summary>
/// Fixed demo data for the local run (<c>--seed-demo</c>): a LINE Official Account with friends (one blocked),
/// a LINE Login channel, a Klaviyo account whose profiles match the friends by email and phone, and a Shopify
/// store (products and a month of orders) with the demo's Shopify app, whose webhooks go to the local function app.
/// The values are fixed so that a persisted local workspace keeps working across restarts.
/// </summary>
public static class DemoSeed
{
    public const string ChannelId = "2000000001";
    public const string ChannelSecret = "0123456789abcdef0123456789abcdef";
    public const string ChannelAccessToken = "demo-channel-access-token";
    public const string LoginChannelId = "2000000002";
    public const string LoginChannelSecret = "fedcba9876543210fedcba9876543210";
    public const string KlaviyoAccountId = "DemoKlaviyo";
    public const string KlaviyoPrivateKey = "pk_demo_0123456789abcdef0123456789";
    /// <summary>The demo's Klaviyo OAuth app (local.settings.sample.json names the same), redirecting to the local function app.</summary>
    public const string OAuthClientId = "lumo-demo-app";
    public const string OAuthClientSecret = "demo-oauth-client-secret-0123456789";
    public const string OAuthRedirectUri = "http://127.0.0.1:7071/api/klaviyo/oauth/callback";

    /// <summary>The demo's Shopify app (local.settings.sample.json names the same) and store.</summary>
    public const string ShopifyClientId = "lumo-demo-shopify";
    public const string ShopifyClientSecret = "shpss_demo_0123456789abcdef";
    public const string ShopifyDomain = "lumo-demo.myshopify.com";

    public static void Seed(SandboxHost.Services state)
    {
        SeedShopify(state.Shopify);
        var line = state.Line;
        var channel = line.AddChannel(new LineChannel(ChannelId, ChannelSecret, ChannelAccessToken, "U000000000000000000000000000000d0", "@lumodemo", "Lumo Demo Store"));
        line.LoginChannels[LoginChannelId] = new LoginChannel(LoginChannelId, LoginChannelSecret);
        var friends = new[]
        {
            (new LineUser("U000000000000000000000000000000a1", "Aiko"), false, "aiko@example.com", "+819011110001"),
            (new LineUser("U000000000000000000000000000000b2", "Ben"), true, "ben@example.com", "+819011110002"),
            (new LineUser("U000000000000000000000000000000c3", "Chika"), false, "chika@example.com", "+886912000003"),
        };
        var klaviyo = state.Klaviyo.AddAccount(KlaviyoAccountId, KlaviyoPrivateKey, "Lumo Demo Store");
        state.Klaviyo.OAuth.Apps[OAuthClientId] = new OAuthApp(OAuthClientId, OAuthClientSecret, [OAuthRedirectUri]);
        var members = new List<string>();
        foreach (var (user, blocked, email, phone) in friends)
        {
            line.Users[user.UserId] = user;
            channel.Friends[user.UserId] = new Friendship(user.UserId, blocked);
            var profile = new SimulatedProfile(klaviyo.NewId()) { Email = email, PhoneNumber = phone };
            profile.Standard["first_name"] = user.DisplayName;
            profile.Properties["Favourite category"] = JsonValue.Create("skincare");
            klaviyo.Profiles[profile.Id] = profile;
            members.Add(profile.Id);
        }
        line.Users["U000000000000000000000000000000e4"] = new LineUser("U000000000000000000000000000000e4", "Daisuke (not a friend)");
        klaviyo.Segments["DEMOSEG"] = new ProfileGroup("DEMOSEG", "Engaged shoppers", members);
        klaviyo.Lists["DEMOLST"] = new ProfileGroup("DEMOLST", "Newsletter", members);
        klaviyo.Lists["DEMOVIP"] = new ProfileGroup("DEMOVIP", "VIP", [members[0], members[2]]); // Aiko and Chika
        klaviyo.Forms["DEMOFRM"] = ("Welcome pop-up", "live");
    }

    private static void SeedShopify(ShopifyState shopify)
    {
        const string app = "http://127.0.0.1:7071/api/shopify";
        shopify.Apps[ShopifyClientId] = new ShopifyApp(ShopifyClientId, ShopifyClientSecret, [$"{app}/callback"])
        {
            ApplicationUrl = $"{app}/install", WebhookUri = $"{app}/webhooks",
        };
        var shop = shopify.AddShop(ShopifyDomain, "Lumo Demo Store", "JPY", ShopifyPlan.Standard);
        var now = DateTimeOffset.UtcNow;
        JsonObject Product(string title, string price, string? compareAt, int inventory, int daysAgo, bool published = true) =>
            ShopifyState.NewProduct(shop, title, [(price, compareAt, inventory)], $"https://cdn.example.com/demo/{title.Split(' ')[0].ToLowerInvariant()}.jpg",
                published: published, publishedAt: now.AddDays(-daysAgo));
        var sakura = Product("Sakura Hand Cream 桜", "2400.00", null, 30, 40);
        var yuzu = Product("Yuzu & Hinoki Soap Gift Set", "1880.00", "2200.00", 12, 20);
        var matcha = Product("Matcha Lip Balm", "800.00", null, 80, 10);
        var hinoki = Product("Hinoki Bath Salts", "1500.00", "1800.00", 0, 8); // sold out: in no feed
        var camellia = Product("Camellia Hair Oil", "3200.00", null, 15, 2);
        Product("Kuromoji Room Spray (coming soon)", "2800.00", null, 20, 0, published: false); // not on the Online Store yet
        ShopifyState.AddOrder(shop, now.AddDays(-3), (matcha, 4), (sakura, 1));
        ShopifyState.AddOrder(shop, now.AddDays(-6), (matcha, 2), (yuzu, 1));
        ShopifyState.AddOrder(shop, now.AddDays(-12), (sakura, 2), (hinoki, 5));
        ShopifyState.AddOrder(shop, now.AddDays(-1), (camellia, 1));
    }
}
