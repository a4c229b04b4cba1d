using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.KlaviyoEvents;
using Lumo.Sandbox.Klaviyo;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.IdLinkage;

/// <summary>
/// Custom QR codes of the Klaviyo link type: a customer scans the code in their email (merge variables filled in by
/// Klaviyo), logs in with LINE, and their LINE user is linked to their Klaviyo profile, once, with the events
/// recorded once. Refusals show a page and link nothing.
/// </summary>
public sealed class QrCodeLinkingTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private LinkingCustomer _customer = null!;

    public async Task InitializeAsync()
    {
        _scenario = await WorkspaceScenario.StartAsync();
        _customer = await LinkingCustomer.SetUpAsync(_scenario);
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private SimulatedProfile Profile(string? email, string? phone)
    {
        var profile = _scenario.NewKlaviyoProfile(email);
        profile.PhoneNumber = phone;
        return profile;
    }

    private async Task<JsonObject> FriendAsync(string userId) =>
        (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{userId}"))!;

    private Task<IReadOnlyList<RecordedEvent>> EventsAsync(string metric, int atLeast) =>
        Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(metric)), e => e.Count >= atLeast, because: $"{atLeast} {metric} events");

    [Fact]
    public async Task EmailOnlyCodeLinksTheScannerAndRecordsEachEventOnce()
    {
        var user = _scenario.Tenant.AddFriend("Aiko");
        await _scenario.FollowAsync(user);
        var profile = Profile($"aiko-{SandboxTenant.Hex(3)}@example.com", null);
        var code = await _customer.CreateQrCodeAsync("email");
        var template = code["linkingUrl"]!.GetValue<string>();
        Assert.Contains("{{ email|urlencode }}", template);
        Assert.Contains("t={{ person|lookup:'LINE Linking Token'|default:''|urlencode }}", template);
        Assert.DoesNotContain("phone", template);
        await _customer.GiveLinkingTokensAsync(profile);

        await _customer.OpenAsync(LinkingCustomer.Rendered(template, profile.Email, token: LinkingCustomer.TokenOf(profile))); // a mail scanner's prefetch, or a first tap
        var landing = await _customer.OpenAsync(LinkingCustomer.Rendered(template, profile.Email!.ToUpperInvariant(), token: LinkingCustomer.TokenOf(profile)));
        Assert.Equal("no-referrer", landing.Headers.GetValues("Referrer-Policy").Single());
        var login = landing.Headers.Location!.OriginalString;
        Assert.DoesNotContain(' ', login); // a well-formed URL: scope=openid%20profile
        Assert.DoesNotContain("example.com", login); // the email stays behind at the landing
        foreach (var parameter in new[] { "state=", "nonce=", "code_challenge=", "code_challenge_method=S256", "bot_prompt=aggressive", $"client_id={_customer.LoginChannelId}" })
            Assert.Contains(parameter, login);
        var callback = await _customer.LogInToLineAsync(landing, user);
        var page = await _customer.ReturnFromLineAsync(callback);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("connected", await page.Content.ReadAsStringAsync());
        var klaviyo = (await FriendAsync(user.UserId))["klaviyo"]!;
        Assert.True(klaviyo["linked"]!.GetValue<bool>());
        Assert.Equal(profile.Id, klaviyo["profileId"]!.GetValue<string>());
        Assert.Equal("qr-code", klaviyo["linkedHow"]!.GetValue<string>());
        Assert.Equal(user.UserId, profile.Properties["LINE User ID"]!.GetValue<string>());
        Assert.Equal("gold", profile.Properties["Loyalty tier"]!.GetValue<string>());

        // The same callback again (a reload, a replay) is refused and records nothing more.
        var replay = await _customer.ReturnFromLineAsync(callback);
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Contains("Nothing was linked", await replay.Content.ReadAsStringAsync());
        Assert.Single(await EventsAsync(KlaviyoMetrics.LinkedLineIdentity, 1), e => e.ProfileId == profile.Id);
        Assert.Single(await EventsAsync(KlaviyoMetrics.ScannedLineQrCode, 1), e => e.ProfileId == profile.Id);
        await Task.Delay(TimeSpan.FromSeconds(4)); // room for a second export, were anything recorded twice
        Assert.Single(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.LinkedLineIdentity));
        Assert.Single(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.ScannedLineQrCode));
    }

    [Fact]
    public async Task PhoneOnlyCodeLinksByThePhoneNumber()
    {
        var user = _scenario.Tenant.AddFriend("Ben");
        var profile = Profile(null, "+819012345678");
        var code = await _customer.CreateQrCodeAsync("phone");
        await _customer.GiveLinkingTokensAsync(profile);

        var page = await _customer.LinkAsync(LinkingCustomer.Rendered(code["linkingUrl"]!.GetValue<string>(), phone: "+81 90-1234-5678", token: LinkingCustomer.TokenOf(profile)), user);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var friend = await FriendAsync(user.UserId);
        Assert.Equal(profile.Id, friend["klaviyo"]!["profileId"]!.GetValue<string>());
        // Ben is a friend in LINE, but no follow webhook ever reached Lumo: LINE's profile API tells.
        Assert.Equal("friend", friend["followStatus"]!.GetValue<string>());
        Assert.Equal("friend", profile.Properties["LINE Follow Status"]!.GetValue<string>());
    }

    [Fact]
    public async Task BothSignalsLinkOnlyWhenTheyBelongToTheSameProfile()
    {
        var code = (await _customer.CreateQrCodeAsync("email", "phone"))["linkingUrl"]!.GetValue<string>();
        var chika = Profile($"chika-{SandboxTenant.Hex(3)}@example.com", "+819011112222");
        var other = Profile($"other-{SandboxTenant.Hex(3)}@example.com", "+819033334444");
        var user = _scenario.Tenant.AddFriend("Chika");

        await _customer.GiveLinkingTokensAsync(chika, other);
        var token = LinkingCustomer.TokenOf(chika);

        // Signals of two profiles: no profile to link, so nothing at the end of LINE Login either.
        var mismatch = await _customer.LinkAsync(LinkingCustomer.Rendered(code, chika.Email, other.PhoneNumber, token), user);
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        Assert.Contains("Nothing was linked", await mismatch.Content.ReadAsStringAsync());
        var emailOnly = await _customer.OpenAsync(LinkingCustomer.Rendered(code, chika.Email, null, token));
        Assert.Equal(HttpStatusCode.BadRequest, emailOnly.StatusCode);

        var page = await _customer.LinkAsync(LinkingCustomer.Rendered(code, chika.Email, chika.PhoneNumber, token), user);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(chika.Id, (await FriendAsync(user.UserId))["klaviyo"]!["profileId"]!.GetValue<string>());
        Assert.False(other.Properties.ContainsKey("LINE User ID"));
    }

    [Fact]
    public async Task AProfileLinkedToSomeoneElseIsRefusedNotOverwritten()
    {
        var (first, profile) = await _scenario.LinkedFriendAsync("First");
        var second = _scenario.Tenant.AddFriend("Second");
        var code = await _customer.CreateQrCodeAsync("email");

        var page = await _customer.LinkAsync(await _customer.OwnUrlAsync(code, profile), second);

        Assert.Equal(HttpStatusCode.Conflict, page.StatusCode);
        Assert.Equal(profile.Id, (await FriendAsync(first.UserId))["klaviyo"]!["profileId"]!.GetValue<string>());
        Assert.Equal(first.UserId, profile.Properties["LINE User ID"]!.GetValue<string>());
        var secondFriend = await _scenario.Admin.GetAsync($"{_scenario.AccountPath()}/friends/{second.UserId}");
        Assert.True(secondFriend.StatusCode == HttpStatusCode.NotFound || !(await secondFriend.Content.ReadFromJsonAsync<JsonObject>())!["klaviyo"]!["linked"]!.GetValue<bool>());
    }

    [Fact]
    public async Task ForgedStateUnknownCodeAndSwappedLoginsLinkNothing()
    {
        var profile = Profile($"dai-{SandboxTenant.Hex(3)}@example.com", null);
        var user = _scenario.Tenant.AddFriend("Dai");
        var code = await _customer.CreateQrCodeAsync("email");
        var url = await _customer.OwnUrlAsync(code, profile);

        var forged = await _customer.OpenAsync("http://localhost/api/link/callback?code=abc&state=forged-state-value");
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        var unknownCode = await _customer.OpenAsync(url.Replace(code["id"]!.GetValue<string>(), "000000000000"));
        Assert.Equal(HttpStatusCode.NotFound, unknownCode.StatusCode);
        var unknownAccount = await _customer.OpenAsync(url.Replace(_scenario.AccountId, "a0a0a0a0a0a0a0a0"));
        Assert.Equal(HttpStatusCode.NotFound, unknownAccount.StatusCode);

        // A code LINE issued for one attempt, brought back with another attempt's state: the nonce does not match.
        var first = await _customer.LogInToLineAsync(await _customer.OpenAsync(url), user);
        var second = await _customer.LogInToLineAsync(await _customer.OpenAsync(url), user);
        var swapped = QueryHelpersSwap(first, second);
        var page = await _customer.ReturnFromLineAsync(swapped);
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);

        var friend = await _scenario.Admin.GetAsync($"{_scenario.AccountPath()}/friends/{user.UserId}");
        Assert.Equal(HttpStatusCode.NotFound, friend.StatusCode);
        Assert.False(profile.Properties.ContainsKey("LINE User ID"));
    }

    // first's code with second's state.
    private static string QueryHelpersSwap(string first, string second)
    {
        var a = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(first).Query);
        var b = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(second).Query);
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("http://localhost/api/link/callback",
            new Dictionary<string, string?> { ["code"] = a["code"], ["state"] = b["state"] });
    }

    [Fact]
    public async Task TheQrImageIsAPngOfThePersonalisedLink()
    {
        var code = await _customer.CreateQrCodeAsync("email");
        var image = await _customer.OpenAsync(LinkingCustomer.Rendered(code["qrImageUrl"]!.GetValue<string>(), "eri@example.com"));
        var preview = await _scenario.Admin.GetAsync(code["qrImagePreviewUrl"]!.GetValue<string>());

        foreach (var response in new[] { image, preview })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/png", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, (await response.Content.ReadAsByteArrayAsync())[..4]);
        }
    }

    [Fact]
    public async Task ACallbackFinishedInAnotherBrowserIsRefusedWithAPageThatSaysWhy()
    {
        var profile = _scenario.NewKlaviyoProfile($"browser-{SandboxTenant.Hex(3)}@example.com");
        var user = _scenario.Tenant.AddFriend("Bea");
        var code = await _customer.CreateQrCodeAsync("email");
        var url = await _customer.OwnUrlAsync(code, profile);
        var landing = await _customer.OpenAsync(url);
        Assert.Contains(landing.Headers.GetValues("Set-Cookie"), c => c.StartsWith("lumo-link-") && c.Contains("httponly") && c.Contains("samesite=lax"));
        var callback = await _customer.LogInToLineAsync(landing, user);

        var elsewhere = await _customer.OtherBrowser().ReturnFromLineAsync(callback);

        Assert.Equal(HttpStatusCode.BadRequest, elsewhere.StatusCode);
        Assert.Contains("same browser", await elsewhere.Content.ReadAsStringAsync());
        Assert.False(profile.Properties.ContainsKey("LINE User ID")); // nothing linked
        // The attempt is not used up by the refusal: the browser that started it still finishes.
        Assert.Equal(HttpStatusCode.OK, (await _customer.ReturnFromLineAsync(callback)).StatusCode);
    }
}
