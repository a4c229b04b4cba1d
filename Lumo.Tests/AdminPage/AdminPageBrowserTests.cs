using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lumo.Tests.AdminPage;

/// <summary>
/// The admin page in a real browser (Debian's Chromium through Playwright), against the app on a loopback port, Azurite
/// and the sandbox: what an operator sees and does, and what the page refuses.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AdminPageBrowserTests(BrowserFixture browser) : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private LumoApp App => _scenario.App;

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync(kestrel: true);

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    [Fact]
    public async Task SignInRefusesAWrongKeyAndKeepsTheKeyOutOfUrlsCookiesAndStorage()
    {
        var page = await browser.NewPageAsync(App.BaseAddress);
        await page.GotoAsync("/api/console/w/" + _scenario.WorkspaceId + "/dashboard");
        Assert.Contains("/api/console/sign-in?returnUrl=", page.Url);

        await page.GetByLabel("Admin key").FillAsync("not-the-admin-key-at-all");
        await page.Button("Sign in").ClickAsync();
        await Expect(page.Locator("#f-key-error")).ToHaveTextAsync("That is not the admin key. Check it and try again.");
        await Expect(page.GetByLabel("Admin key")).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.Empty(await page.Context.CookiesAsync());

        await page.GetByLabel("Admin key").FillAsync(LumoApp.AdminKey);
        await page.Button("Sign in").ClickAsync();
        await Expect(page.Heading("Dashboard")).ToBeVisibleAsync(); // back where the operator wanted to go
        Assert.DoesNotContain(LumoApp.AdminKey, page.Url);
        Assert.Equal(0, await page.EvaluateAsync<int>("localStorage.length + sessionStorage.length"));
        Assert.Equal("", await page.EvaluateAsync<string>("document.cookie")); // HttpOnly: no script reads the session

        var cookie = Assert.Single(await page.Context.CookiesAsync());
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("/api/console", cookie.Path);
        Assert.DoesNotContain(LumoApp.AdminKey, cookie.Value);
        // 30 minutes; the upper bound leaves room for a machine clock stepped back while the test runs (seen on CI).
        Assert.InRange(DateTimeOffset.FromUnixTimeSeconds((long)cookie.Expires) - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(25), TimeSpan.FromMinutes(35));

        var response = await page.OpenAsync($"/api/console/w/{_scenario.WorkspaceId}/flow");
        Assert.Contains("script-src 'self'", response.Headers["content-security-policy"]);
        Assert.Equal(0, await page.Locator("script:not([src])").CountAsync()); // no inline script anywhere
        Assert.Equal("no-store", response.Headers["cache-control"]);

        // Signing out ends the session everywhere: a copy of the cookie in another browser is refused too.
        var copy = await browser.NewPageAsync(App.BaseAddress);
        await copy.Context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = cookie.Name, Value = cookie.Value, Domain = cookie.Domain, Path = cookie.Path }]);
        await copy.GotoAsync($"/api/console/w/{_scenario.WorkspaceId}/flow");
        await Expect(copy.Heading("Flow Message Settings")).ToBeVisibleAsync();
        await page.Button("Sign out").ClickAsync();
        await page.ShowsSignInAsync();
        await copy.GotoAsync($"/api/console/w/{_scenario.WorkspaceId}/flow");
        Assert.Contains("/api/console/sign-in", copy.Url);

        // A cookie changed by hand is worth nothing: back to sign-in.
        await page.SignInAsync();
        cookie = Assert.Single(await page.Context.CookiesAsync());
        await page.Context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = cookie.Name, Value = cookie.Value[..^4] + "AAAA", Domain = cookie.Domain, Path = cookie.Path }]);
        await page.GotoAsync($"/api/console/w/{_scenario.WorkspaceId}/flow");
        Assert.Contains("/api/console/sign-in", page.Url);
    }

    [Fact]
    public async Task SigningOutEveryoneEndsEverySessionSignedInUntilThen()
    {
        var (mine, theirs) = (await browser.NewPageAsync(App.BaseAddress), await browser.NewPageAsync(App.BaseAddress));
        await mine.SignInAsync();
        await theirs.SignInAsync();
        await mine.Button("Sign out everyone").ClickAsync();
        await mine.ShowsSignInAsync();
        await theirs.GotoAsync("/api/console/workspaces");
        Assert.Contains("/api/console/sign-in", theirs.Url);

        await theirs.SignInAsync(); // a new sign-in works again
        await Expect(theirs.Heading("Workspaces")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task ParkedWorkReplayedFromTheDashboardRunsAndShowsInTheSyncHistory()
    {
        await _scenario.LinkedFriendAsync("Hana");
        var queues = App.Service<Lumo.Core.Storage.LumoQueues>();
        await queues.EnqueueAsync(Lumo.Core.Storage.QueueNames.PoisonOf(Lumo.Core.Storage.QueueNames.KlaviyoProfileSync),
            new Lumo.Core.Friends.ProfileSyncRequest(_scenario.WorkspaceId, _scenario.AccountId)); // as if it had failed every attempt
        var page = await browser.NewPageAsync(App.BaseAddress);
        await page.SignInAsync();
        await page.GotoAsync($"/api/console/w/{_scenario.WorkspaceId}/dashboard");
        var parked = page.Locator("tr", new() { HasText = Lumo.Core.Storage.QueueNames.KlaviyoProfileSync });
        await Expect(parked).ToContainTextAsync("SyncKlaviyoProfiles");

        await parked.GetByRole(AriaRole.Button, new() { Name = "Replay" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Replayed");
        await Eventually.MatchesAsync(async () => { await page.ReloadAsync(); return await page.GetByRole(AriaRole.Region, new() { Name = "Sync history" }).InnerTextAsync(); },
            history => history.Contains("LINE properties → Klaviyo (bulk) · Test OA\tcomplete\t1\t0")); // Hana's profile, no failure
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Parked work" })).ToContainTextAsync("Nothing is parked.");
    }

    [Fact]
    public async Task OperatorConnectsAWorkspaceCopiesTheWebhookUrlAndReissuesTheFlowKey()
    {
        var page = await browser.NewPageAsync(App.BaseAddress);
        await page.SignInAsync();
        await Expect(page.Heading("Workspaces")).ToBeVisibleAsync();
        var workspacesBefore = (await _scenario.Admin.GetFromJsonAsync<JsonArray>("/api/manage/workspaces"))!.Count;

        // A wrong Klaviyo key: the admin API's own message, beside its field; nothing created.
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Browser store");
        await page.GetByLabel("Klaviyo private API key").FillAsync("sk_not_a_private_key");
        await page.Button("Create workspace").ClickAsync();
        await Expect(page.Locator("#f-klaviyo-privateApiKey-error")).ToHaveTextAsync("A Klaviyo private API key starts with \"pk_\" and has no spaces.");
        await Expect(page.Locator("#f-klaviyo-privateApiKey")).ToHaveAttributeAsync("aria-describedby", "f-klaviyo-privateApiKey-hint f-klaviyo-privateApiKey-error");
        await Expect(page.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync("Browser store"); // what was typed stays
        Assert.Equal(workspacesBefore, (await _scenario.Admin.GetFromJsonAsync<JsonArray>("/api/manage/workspaces"))!.Count);
        await page.ScreenshotForDocsAsync("workspaces");

        await page.GetByLabel("Klaviyo private API key").FillAsync(_scenario.Tenant.KlaviyoKey);
        await page.Button("Create workspace").ClickAsync();
        await Expect(page.Heading("Browser store")).ToBeVisibleAsync();
        var workspaceId = page.Url.Split("/w/")[1].Split('?')[0];

        var channel = _scenario.Tenant.AddChannel();
        var connect = page.Locator("form", new() { Has = page.Button("Connect LINE account") });
        await connect.GetByLabel("Name", new() { Exact = true }).FillAsync("Browser OA");
        await connect.GetByLabel("Messaging API channel ID").FillAsync(channel.ChannelId);
        await connect.GetByLabel("Channel secret").FillAsync(channel.ChannelSecret);
        await connect.GetByLabel("Channel access token").FillAsync(channel.AccessToken);
        await page.Button("Connect LINE account").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("LINE account connected");
        var account = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{workspaceId}"))!["accounts"]![0]!;
        var webhookUrl = $"{App.BaseAddress}api/line/webhook/{workspaceId}/{account["id"]}";
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy: Webhook URL" }).ClickAsync();
        Assert.Equal(webhookUrl, await page.EvaluateAsync<string>("navigator.clipboard.readText()"));
        await page.ScreenshotForDocsAsync("workspace");

        // Flow Message Settings: the key shows only when asked for.
        await page.GetByRole(AriaRole.Link, new() { Name = "Flow Message Settings" }).ClickAsync();
        await Expect(page.Locator("#flow-key")).ToHaveCountAsync(0);
        await page.Button("Reveal key").ClickAsync();
        var oldKey = await page.Locator("#flow-key code").InnerTextAsync();
        Assert.StartsWith("lfk_", oldKey);
        await page.ScreenshotForDocsAsync("flow-settings");

        // Cancelling the dialog changes nothing.
        await page.Button("Reissue key…").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToContainTextAsync("The old key stops working at once");
        await page.ScreenshotForDocsAsync("flow-key-reissue");
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToBeHiddenAsync();
        Assert.Equal(oldKey, await FlowKeyAsync(workspaceId));

        await page.Button("Reissue key…").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Reissue now" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The old key is refused from now on");
        await page.Button("Reveal key").ClickAsync();
        var newKey = await page.Locator("#flow-key code").InnerTextAsync();
        Assert.NotEqual(oldKey, newKey);
        Assert.Equal(newKey, await FlowKeyAsync(workspaceId));

        Assert.Equal(HttpStatusCode.Unauthorized, await FlowSendStatusAsync(workspaceId, oldKey));
        Assert.NotEqual(HttpStatusCode.Unauthorized, await FlowSendStatusAsync(workspaceId, newKey));
    }

    [Fact]
    public async Task OperatorCreatesAQrCodeSeesItsImageAndLinksAndDiagnosesAFriend()
    {
        var user = _scenario.Tenant.AddFriend("Aiko");
        await _scenario.FollowAsync(user);
        var profile = _scenario.NewKlaviyoProfile("aiko@example.com");
        var page = await browser.NewPageAsync(App.BaseAddress);
        await page.SignInAsync();
        var account = $"/api/console/w/{_scenario.WorkspaceId}/a/{_scenario.AccountId}";

        await page.GotoAsync(account + "/linkage");
        var qr = page.Locator("form", new() { Has = page.Button("Create QR code") });
        await page.Button("Create QR code").ClickAsync(); // no name: the admin API's message beside the field
        await Expect(page.Locator("#f-qr-name-error")).ToContainTextAsync("Give the QR code a name");
        await qr.GetByLabel("QR code name").FillAsync("Welcome email");
        await qr.GetByLabel("Refuse unsigned linking URLs").UncheckAsync();
        await page.Button("Create QR code").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("QR code created.");
        var image = page.GetByRole(AriaRole.Img, new() { Name = "QR code: Welcome email" });
        await Expect(image).ToBeVisibleAsync();
        await Expect(image).ToHaveJSPropertyAsync("complete", true);
        Assert.True(await image.EvaluateAsync<int>("img => img.naturalWidth") > 100, "the QR image loads");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Welcome email" })).ToContainTextAsync("email={{ email|urlencode }}");
        await page.ScreenshotForDocsAsync("id-linkage");

        await page.GotoAsync(account + "/friends");
        await page.GetByLabel("Find a friend").FillAsync("not a phone");
        await page.Button("Search").ClickAsync();
        await Expect(page.Locator("#f-q-error")).Not.ToBeEmptyAsync();
        await page.GetByLabel("Find a friend").FillAsync(user.UserId);
        await page.Button("Search").ClickAsync();
        await Expect(page.Heading("Aiko")).ToBeVisibleAsync();

        await page.GetByLabel("Klaviyo profile ID").FillAsync("not/a/profile");
        await page.Button("Link").ClickAsync();
        await Expect(page.Locator("#f-link-klaviyoProfileId-error")).ToContainTextAsync("The Klaviyo profile id is required");
        await page.GetByLabel("Klaviyo profile ID").FillAsync(profile.Id);
        await page.Button("Link").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved.");
        await Eventually.MatchesAsync(() => { lock (_scenario.Tenant.Klaviyo.Gate) return Task.FromResult(profile.Properties["LINE User ID"]?.ToString()); }, id => id == user.UserId);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "View in Klaviyo" })).ToHaveAttributeAsync("href", $"https://www.klaviyo.com/profile/{profile.Id}");
        var diagnosis = page.Locator("table", new() { Has = page.GetByText("Is a friend of this LINE account") });
        await Expect(diagnosis.Locator("tr", new() { HasText = "Is a friend of this LINE account" })).ToContainTextAsync("OK");
        await Expect(diagnosis.Locator("tr", new() { HasText = "ID-linked to a Klaviyo profile" })).ToContainTextAsync(profile.Id);
        await Expect(page.Locator("table", new() { HasText = "LINE Consent Source" })).ToContainTextAsync("granted");
        await page.ScreenshotForDocsAsync("friend");

        // On a phone the page reflows: nothing wider than the screen but tables, which scroll in their own box.
        await page.SetViewportSizeAsync(390, 844);
        foreach (var path in new[] { page.Url, $"/api/console/w/{_scenario.WorkspaceId}", account + "/linkage", $"/api/console/w/{_scenario.WorkspaceId}/dashboard" })
        {
            await page.GotoAsync(path);
            Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), $"{path} is wider than a phone");
        }
        await page.GotoAsync(account + "/linkage");
        await page.ScreenshotForDocsAsync("id-linkage-phone");
    }

    [Fact]
    public async Task OperatorWritesAnAutoSendMessageTestSendsItAndFindsItInTheSendLog()
    {
        var (user, _) = await _scenario.LinkedFriendAsync("Chika");
        var page = await browser.NewPageAsync(App.BaseAddress);
        await page.SignInAsync();
        await page.GotoAsync($"/api/console/w/{_scenario.WorkspaceId}/messages");

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Cart reminder");
        await page.GetByLabel("LINE messages (JSON)").FillAsync("[{\"type\": \"text\"}]"); // a text message without its text
        await page.Button("Create message").ClickAsync();
        await Expect(page.Locator("#f-messages-error")).Not.ToBeEmptyAsync();
        await Expect(page.GetByLabel("LINE messages (JSON)")).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{_scenario.WorkspaceId}/messages"))!);

        await page.GetByLabel("LINE messages (JSON)").FillAsync("[{\"type\": \"text\", \"text\": \"Hi {{first_name}}, your cart is waiting\"}]");
        await page.Button("Create message").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Auto Send Message created.");
        await Expect(page.Locator("#flow-json")).ToContainTextAsync("\"first_name\": \"{{ person|lookup:'first_name'|default:'' }}\"");
        await Expect(page.Locator("#flow-json")).ToContainTextAsync("\"to\": \"{{ person|lookup:'LINE User ID' }}\"");
        await page.ScreenshotForDocsAsync("auto-send-message");

        var test = page.Locator("form", new() { Has = page.Button("Send test") });
        await test.GetByLabel("LINE user ID").FillAsync(user.UserId);
        await test.GetByLabel("Variables (JSON)").FillAsync("{\"first_name\": \"Chika\"}");
        await page.Button("Send test").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Test message accepted");
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Channel.PushesTo(user.UserId).ToList()), p => p.Count > 0);
        Assert.Contains("Hi Chika, your cart is waiting", Assert.Single(_scenario.Tenant.Channel.PushesTo(user.UserId)).Messages.ToJsonString());

        // The send log shows it sent, and leads to the recipient's diagnosis.
        await Eventually.MatchesAsync(async () => { await page.ReloadAsync(); return await page.Locator("tbody tr").First.InnerTextAsync(); }, row => row.Contains("Sent"));
        await page.ScreenshotForDocsAsync("send-log");
        await page.GetByRole(AriaRole.Link, new() { Name = user.UserId }).First.ClickAsync();
        await Expect(page.Locator("table", new() { Has = page.GetByText("Last send", new() { Exact = true }) })).ToContainTextAsync("Sent");

        await page.GotoAsync($"/api/console/w/{_scenario.WorkspaceId}/dashboard");
        await Expect(page.Locator("table", new() { HasText = "Klaviyo" }).First).ToContainTextAsync("Verified");
        await Expect(page.Locator(".verdict")).ToContainTextAsync("Healthy");
        await page.ScreenshotForDocsAsync("dashboard");
    }

    [Fact]
    public async Task OperatorBroadcastsToASegmentAndWatchesItComplete()
    {
        var (linked, _) = await _scenario.LinkedFriendAsync("Emi");
        var unlinked = _scenario.Tenant.AddFriend("Fumi");
        await _scenario.FollowAsync(unlinked);
        var page = await browser.NewPageAsync(App.BaseAddress);
        await page.SignInAsync();
        await page.GotoAsync($"/api/console/w/{_scenario.WorkspaceId}/a/{_scenario.AccountId}/broadcasts");

        // The segment's rule is checked by the admin API; its message names the condition, beside the rule.
        await page.GetByLabel("Segment name").FillAsync("Linked friends");
        await page.GetByLabel("Rule (JSON)").FillAsync("{\"all\": [{\"linked\": true}, {\"inList\": \"NOSUCHLIST\"}]}");
        await page.Button("Create segment").ClickAsync();
        await Expect(page.Locator("#f-segment-conditions-error")).ToContainTextAsync("NOSUCHLIST");
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/segments"))!);
        await page.GetByLabel("Rule (JSON)").FillAsync("{\"linked\": true}");
        await page.Button("Create segment").ClickAsync();
        await Expect(page.Locator("#segments + .table")).ToContainTextAsync("Linked friends");

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Winter sale");
        await page.GetByLabel("Text").FillAsync("Winter sale starts today");
        await page.GetByLabel("Audience").SelectOptionAsync(new SelectOptionValue { Label = "Linked friends" });
        await page.GetByLabel("Send at").FillAsync("tomorrow at ten");
        await page.Button("Create broadcast").ClickAsync();
        await Expect(page.Locator("#f-broadcast-scheduledAt-error")).ToContainTextAsync("UTC offset");
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/broadcasts"))!);

        await page.GetByLabel("Send at").FillAsync("");
        await page.Button("Create broadcast").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Broadcast created");
        await Eventually.MatchesAsync(async () => { await page.ReloadAsync(); return await page.Locator("tbody tr", new() { HasText = "Winter sale" }).InnerTextAsync(); },
            row => row.Contains("Completed") && row.Contains("1 / 1"));
        Assert.Single(_scenario.Tenant.Channel.PushesTo(linked.UserId));
        Assert.Empty(_scenario.Tenant.Channel.PushesTo(unlinked.UserId));
        await page.ScreenshotForDocsAsync("broadcasts");
    }

    [Fact]
    public async Task AChangeWithoutTheAntiForgeryTokenIsRefusedAndWritesNothing()
    {
        var page = await browser.NewPageAsync(App.BaseAddress);
        await page.SignInAsync();
        await Expect(page.Heading("Workspaces")).ToBeVisibleAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Forged store");
        await page.GetByLabel("Klaviyo private API key").FillAsync(_scenario.Tenant.KlaviyoKey);
        await page.EvaluateAsync("document.querySelectorAll('input[name=__csrf]').forEach(i => i.remove())");
        var refused = await page.RunAndWaitForResponseAsync(() => page.Button("Create workspace").ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("anti-forgery token is missing or wrong");

        // Nor does a token of another session help.
        var other = await browser.NewPageAsync(App.BaseAddress);
        await other.SignInAsync();
        var othersToken = await other.Locator("input[name=__csrf]").First.GetAttributeAsync("value");
        var forged = await page.Context.APIRequest.PostAsync("/api/console/workspaces", new()
        {
            Form = page.Context.APIRequest.CreateFormData().Set("__csrf", othersToken!).Set("name", "Forged store").Set("klaviyo.privateApiKey", _scenario.Tenant.KlaviyoKey),
        });
        Assert.Equal(400, forged.Status);

        var names = (await _scenario.Admin.GetFromJsonAsync<JsonArray>("/api/manage/workspaces"))!.Select(w => w!["name"]!.GetValue<string>());
        Assert.DoesNotContain("Forged store", names);
    }

    [Fact]
    public async Task MarkupInADisplayNameIsShownAsTextNeverRun()
    {
        const string name = "<img src=x onerror=\"document.title='owned'\"><b>Aiko</b>";
        var user = _scenario.Tenant.AddFriend(name);
        await _scenario.FollowAsync(user);
        var page = await browser.NewPageAsync(App.BaseAddress);
        await page.SignInAsync();
        await page.GotoAsync($"/api/console/w/{_scenario.WorkspaceId}/a/{_scenario.AccountId}/friends");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = name })).ToBeVisibleAsync(); // the text, as written
        await page.GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();
        await Expect(page.Heading(name)).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator("main img, main b").CountAsync());
        Assert.NotEqual("owned", await page.TitleAsync());
    }

    [Fact]
    public async Task LabelsAreJapaneseForABrowserThatPrefersJapanese()
    {
        var page = await browser.NewPageAsync(App.BaseAddress, "ja-JP");
        await page.GotoAsync("/api/console/sign-in");
        await page.GetByLabel("管理キー").FillAsync(LumoApp.AdminKey);
        await page.Button("サインイン").ClickAsync();
        await Expect(page.Heading("ワークスペース")).ToBeVisibleAsync();
        Assert.Equal("ja", await page.Locator("html").GetAttributeAsync("lang"));
    }

    private async Task<string> FlowKeyAsync(string workspaceId) =>
        (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{workspaceId}/flow-settings"))!["headerValue"]!.GetValue<string>();

    private async Task<HttpStatusCode> FlowSendStatusAsync(string workspaceId, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{workspaceId}/send")
        {
            Content = JsonContent.Create(new { to = "U" + new string('0', 32), text = "hello", idempotencyKey = "browser-" + Guid.NewGuid() }),
        };
        request.Headers.Add("X-Lumo-Flow-Key", key);
        return (await _scenario.Client.SendAsync(request)).StatusCode;
    }
}
