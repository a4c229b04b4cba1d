using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Sandbox.Klaviyo;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.IdLinkage;

/// <summary>
/// Form ID linkage: the embed script for the target form, the success-screen button URL that links the submitted
/// profile, and the Flow-controlled variant where linking opens only once a Flow has called back.
/// </summary>
public sealed class FormLinkingTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private const string FormId = "XyZ123";

    public async Task InitializeAsync()
    {
        _scenario = await WorkspaceScenario.StartAsync(settings: new() { ["Lumo:IdLinkage:RequestsPerClientPerMinute"] = "12" });
        _scenario.Tenant.Klaviyo.Forms[FormId] = ("Newsletter pop-up", "live");
        _scenario.Tenant.Klaviyo.Forms["Draft01"] = ("Draft form", "draft");
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<JsonObject> SettingsAsync() => (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/id-linkage"))!;

    [Fact]
    public async Task TheSuccessScreenButtonLinksTheSubmittedProfile()
    {
        var customer = await LinkingCustomer.SetUpAsync(_scenario, form: new { formId = FormId, ctaLabel = "LINEで受け取る" });
        var form = (await SettingsAsync())["form"]!;
        var script = await _scenario.Client.GetStringAsync(new Uri(form["landingPageEmbedCode"]!.GetValue<string>().Split('"')[1]).PathAndQuery);
        Assert.Contains(FormId, script);
        Assert.Contains("klaviyoForms", script);
        Assert.Contains(System.Text.Json.JsonSerializer.Serialize("LINEで受け取る"), script); // as a JS string literal
        var profile = _scenario.NewKlaviyoProfile($"form-{SandboxTenant.Hex(3)}@example.com");
        var user = _scenario.Tenant.AddFriend("Form");

        var buttonUrl = form["successScreenButtonUrl"]!.GetValue<string>();
        var page = await customer.LinkAsync($"{buttonUrl}?email={Uri.EscapeDataString(profile.Email!)}", user);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var friend = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{user.UserId}"))!;
        Assert.Equal(profile.Id, friend["klaviyo"]!["profileId"]!.GetValue<string>());
        Assert.Equal("form", friend["klaviyo"]!["linkedHow"]!.GetValue<string>());
        // Opened without the script's signals (e.g. straight from the form editor): a page, not a link.
        Assert.Equal(HttpStatusCode.BadRequest, (await customer.OpenAsync(buttonUrl)).StatusCode);
    }

    [Fact]
    public async Task TheFormUrlCannotLinkAnExistingCustomerWhoseEmailSomeoneKnowsButTheirSignedUrlCan()
    {
        var customer = await LinkingCustomer.SetUpAsync(_scenario, form: new { formId = FormId, ctaLabel = "Connect LINE" });
        var buttonUrl = (await SettingsAsync())["form"]!["successScreenButtonUrl"]!.GetValue<string>();
        var existing = new SimulatedProfile(_scenario.Tenant.Klaviyo.NewId()) { Email = $"regular-{SandboxTenant.Hex(3)}@example.com", Created = DateTimeOffset.UtcNow.AddDays(-90) };
        lock (_scenario.Tenant.Klaviyo.Gate) _scenario.Tenant.Klaviyo.Profiles[existing.Id] = existing;
        var link = $"{buttonUrl}?email={Uri.EscapeDataString(existing.Email)}";

        // The button URL is public (it is in the page's embed code): with a known customer's email it links nobody.
        var attacker = await customer.OtherBrowser().LinkAsync(link, _scenario.Tenant.AddFriend("Mallory"));
        Assert.Equal(HttpStatusCode.BadRequest, attacker.StatusCode);
        Assert.False(existing.Properties.ContainsKey("LINE User ID"));

        // The same customer, with the linking token their emails carry, links from the form URL too.
        await customer.GiveLinkingTokensAsync(existing);
        var own = await customer.LinkAsync($"{link}&t={LinkingCustomer.TokenOf(existing)}", _scenario.Tenant.AddFriend("Regular"));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.True(existing.Properties.ContainsKey("LINE User ID"));
    }

    [Fact]
    public async Task FlowControlledLinkingOpensOnlyAfterTheFlowCallsBack()
    {
        var customer = await LinkingCustomer.SetUpAsync(_scenario, form: new { formId = FormId, ctaLabel = "Connect LINE", flowControlled = true });
        var form = (await SettingsAsync())["form"]!;
        var buttonUrl = form["successScreenButtonUrl"]!.GetValue<string>();
        var callbackPath = new Uri(form["formLinkageCallbackUrl"]!.GetValue<string>()).PathAndQuery;
        var profile = _scenario.NewKlaviyoProfile($"optin-{SandboxTenant.Hex(3)}@example.com");
        var user = _scenario.Tenant.AddFriend("OptIn");
        var link = $"{buttonUrl}?email={Uri.EscapeDataString(profile.Email!)}";

        // Before the Flow calls back: LINE Login as for any landing, then nothing linked (the answer does not tell
        // whether this address has just signed up).
        var early = await customer.OtherBrowser().LinkAsync(link, user);
        Assert.Equal(HttpStatusCode.BadRequest, early.StatusCode);
        Assert.Contains("confirmed", await early.Content.ReadAsStringAsync());

        var body = new { linkingUrl = buttonUrl, profileId = profile.Id, email = profile.Email, phoneNumber = "" };
        var wrongKey = new HttpRequestMessage(HttpMethod.Post, callbackPath) { Content = JsonContent.Create(body) };
        wrongKey.Headers.Add(FlowKeys.HeaderName, "not-the-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _scenario.Client.SendAsync(wrongKey)).StatusCode);
        var key = await _scenario.FlowKeyAsync();
        for (var attempt = 0; attempt < 2; attempt++) // Klaviyo may deliver the webhook twice
        {
            var armed = new HttpRequestMessage(HttpMethod.Post, callbackPath) { Content = JsonContent.Create(body) };
            armed.Headers.Add(FlowKeys.HeaderName, key);
            Assert.Equal(HttpStatusCode.OK, (await _scenario.Client.SendAsync(armed)).StatusCode);
        }

        var page = await customer.LinkAsync(link, user);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var friend = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{user.UserId}"))!;
        Assert.Equal(profile.Id, friend["klaviyo"]!["profileId"]!.GetValue<string>());
        Assert.Equal("flow-controlled-form", friend["klaviyo"]!["linkedHow"]!.GetValue<string>());
        // The arm is used up: the same submitted email opens no second linking (someone else knowing the address, say).
        var again = await customer.OtherBrowser().LinkAsync(link, _scenario.Tenant.AddFriend("Someone else"));
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal(profile.Id, (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{user.UserId}"))!["klaviyo"]!["profileId"]!.GetValue<string>());
    }

    [Fact]
    public async Task SettingsNameALiveFormAndAnExistingSegmentOrNothingIsSaved()
    {
        await LinkingCustomer.SetUpAsync(_scenario);
        var before = await SettingsAsync();

        var draft = await _scenario.Admin.PutAsJsonAsync($"{_scenario.AccountPath()}/id-linkage",
            new { loginChannelId = before["loginChannelId"]!.GetValue<string>(), form = new { formId = "Draft01", ctaLabel = "Go" } });
        var segment = await _scenario.Admin.PutAsJsonAsync($"{_scenario.AccountPath()}/id-linkage",
            new { loginChannelId = before["loginChannelId"]!.GetValue<string>(), import = new { segmentId = "NOSUCH", lineUserIdProperty = "line_id" } });

        Assert.Equal(HttpStatusCode.BadRequest, draft.StatusCode);
        Assert.Contains("formId", (await draft.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(HttpStatusCode.BadRequest, segment.StatusCode);
        Assert.Contains("importSegmentId", (await segment.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
        var after = await SettingsAsync();
        Assert.Null(after["form"]);
        Assert.Null(after["import"]);
    }

    [Fact]
    public async Task AChangeAgainstAStaleReadIsRefusedBeforeTheSecretIsWritten()
    {
        var customer = await LinkingCustomer.SetUpAsync(_scenario);
        var stale = new HttpRequestMessage(HttpMethod.Put, $"{_scenario.AccountPath()}/id-linkage")
        {
            Content = JsonContent.Create(new { loginChannelId = "1234567890", loginChannelSecret = "0000000000000000ffffffffffffffff" }),
        };
        stale.Headers.TryAddWithoutValidation("If-Match", "W/\"datetime'2020-01-01T00%3A00%3A00.0000000Z'\"");

        var response = await _scenario.Admin.SendAsync(stale);

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        Assert.Equal(customer.LoginChannelId, (await SettingsAsync())["loginChannelId"]!.GetValue<string>());
        var secret = await _scenario.App.Service<Lumo.Core.Secrets.ISecretStore>()
            .GetIfExistsAsync(Lumo.Core.Secrets.SecretNames.LoginChannelSecret(_scenario.WorkspaceId, _scenario.AccountId));
        Assert.Equal(customer.LoginChannelSecret, secret);
    }

    [Fact]
    public async Task LinkingEndpointsAreRateLimitedPerClient()
    {
        var customer = await LinkingCustomer.SetUpAsync(_scenario);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 14; i++)
            statuses.Add((await customer.OpenAsync($"http://localhost/api/link/callback?state=guess-{i}&code=x")).StatusCode);

        Assert.Equal(12, statuses.Count(s => s == HttpStatusCode.BadRequest));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        var limited = await customer.OpenAsync("http://localhost/api/link/callback?state=again&code=x");
        Assert.True(limited.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task AClientCannotLeaveTheRateLimitByWritingItsOwnForwardedFor()
    {
        async Task<int> CallbackStatusAsync(string peer, string forwardedFor) => (await _scenario.App.Server.SendAsync(context =>
        {
            context.Request.Method = "GET";
            context.Request.Path = "/api/link/callback";
            context.Request.QueryString = new Microsoft.AspNetCore.Http.QueryString("?state=guess&code=x");
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
            context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(peer);
        })).Response.StatusCode;

        // Straight from the internet (not through a known proxy): a made-up X-Forwarded-For changes nothing.
        var direct = new List<int>();
        for (var i = 0; i < 13; i++) direct.Add(await CallbackStatusAsync("203.0.113.9", $"198.51.100.{i}"));
        // Through the Functions host on loopback: the forwarded address is the client, one limit each.
        var forwarded = new List<int>();
        for (var i = 0; i < 13; i++) forwarded.Add(await CallbackStatusAsync("127.0.0.1", $"192.0.2.{i}"));

        Assert.Equal(1, direct.Count(s => s == 429));
        Assert.DoesNotContain(429, forwarded);
    }
}
