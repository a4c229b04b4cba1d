using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Core.KlaviyoEvents;
using Lumo.Sandbox.Klaviyo;
using Lumo.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Lumo.Tests.Tracking;

/// <summary>
/// Trackable links and images: every http(s) link and image of a Flow send reaches LINE as a signed tracking URL of
/// ours. Following a link lands on the destination with UTM parameters merged and records one Clicked LINE Message per
/// click window; loading an image (after the send-time grace) records one Opened LINE Message per send, and a click
/// implies the open; crawlers and scanners are redirected without counting; anything else is a 404. Each event reaches
/// Klaviyo once: the sandbox counts duplicates it received.
/// </summary>
public sealed class TrackingTests : IAsyncLifetime
{
    private const string Phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/15.12.1";
    private WorkspaceScenario _scenario = null!;
    private HttpClient _browser = null!;

    public async Task InitializeAsync()
    {
        // An https address, as in Azure: LINE takes only https image URLs, so images are tracked only behind one.
        _scenario = await WorkspaceScenario.StartAsync(settings: new() { ["Lumo:Tracking:OpenGrace"] = "00:00:01", ["Lumo:IdLinkage:PublicBaseUrl"] = "https://localhost" });
        _browser = _scenario.App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<(string Text, SimulatedProfile Profile, string UserId)> SendAsync(string text)
    {
        var (user, profile) = await _scenario.LinkedFriendAsync("Hana");
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{_scenario.WorkspaceId}/send")
        {
            Content = JsonContent.Create(new { to = user.UserId, account = _scenario.AccountId, text, idempotencyKey = "evt-" + SandboxTenant.Hex(4) }),
        };
        request.Headers.Add(FlowKeys.HeaderName, await _scenario.FlowKeyAsync());
        Assert.Equal(HttpStatusCode.Accepted, (await _scenario.Client.SendAsync(request)).StatusCode);
        var pushed = _scenario.Tenant.Channel.PushesTo(user.UserId).Single();
        return (pushed.Messages[0]!["text"]!.GetValue<string>(), profile, user.UserId);
    }

    private static List<string> TrackingUrls(string text) =>
        System.Text.RegularExpressions.Regex.Matches(text, @"https://localhost/api/t/[A-Za-z0-9_/-]+").Select(m => m.Value).ToList();

    private Task<HttpResponseMessage> FollowAsync(string url, string? userAgent = Phone, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, new Uri(url).PathAndQuery);
        if (userAgent is not null) request.Headers.TryAddWithoutValidation("User-Agent", userAgent); // recorded as crawlers send them
        return _browser.SendAsync(request);
    }

    private IReadOnlyList<RecordedEvent> Clicks() => _scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.ClickedLineMessage);

    private IReadOnlyList<RecordedEvent> Opens() => _scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.OpenedLineMessage);

    // A card with a hero image and a button, as an Auto Send Message, sent by a Flow; returns the pushed card.
    private async Task<(JsonObject Card, SimulatedProfile Profile)> SendCardAsync(string name, bool? track = null, Dictionary<string, string>? utm = null)
    {
        var card = JsonNode.Parse("""
            {"type":"flex","altText":"New in","contents":{"type":"bubble",
             "hero":{"type":"image","url":"https://cdn.example.com/hero.jpg","size":"full"},
             "footer":{"type":"box","layout":"vertical","contents":[{"type":"button","action":{"type":"uri","label":"Shop","uri":"https://shop.example.com/new"}}]}}}
            """)!;
        var created = await _scenario.Admin.PostAsJsonAsync($"/api/manage/workspaces/{_scenario.WorkspaceId}/messages", new { name = "New in " + name, messages = new JsonArray(card), trackOpensAndClicks = track, utm });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var messageId = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var (user, profile) = await _scenario.LinkedFriendAsync(name);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{_scenario.WorkspaceId}/send")
        {
            Content = JsonContent.Create(new { to = user.UserId, account = _scenario.AccountId, message = messageId, idempotencyKey = "evt-" + SandboxTenant.Hex(4) }),
        };
        request.Headers.Add(FlowKeys.HeaderName, await _scenario.FlowKeyAsync());
        Assert.Equal(HttpStatusCode.Accepted, (await _scenario.Client.SendAsync(request)).StatusCode);
        return (_scenario.Tenant.Channel.PushesTo(user.UserId).Single().Messages[0]!.AsObject(), profile);
    }

    private static string HeroOf(JsonObject card) => card["contents"]!["hero"]!["url"]!.GetValue<string>();

    private static string ButtonOf(JsonObject card) => card["contents"]!["footer"]!["contents"]![0]!["action"]!["uri"]!.GetValue<string>();

    [Fact]
    public async Task ACardImageLoadedByThePhoneIsOneOpenAndNeitherTheSendTimeFetchNorBotsCount()
    {
        var (card, profile) = await SendCardAsync("Io");
        var hero = HeroOf(card);
        Assert.StartsWith("https://localhost/api/o/", hero);
        Assert.StartsWith("https://localhost/api/t/", ButtonOf(card));

        var atSendTime = await FollowAsync(hero); // within the grace after the push: a prefetch, not a reader
        Assert.Equal(HttpStatusCode.Redirect, atSendTime.StatusCode);
        Assert.Equal("https://cdn.example.com/hero.jpg", atSendTime.Headers.Location!.OriginalString);
        Assert.Null(atSendTime.Headers.CacheControl?.MaxAge); // not counted yet: the phone must not keep it
        await Task.Delay(TimeSpan.FromSeconds(1.2)); // past the grace (1 s in this test)
        await FollowAsync(hero, "facebookexternalhit/1.1;line-poker/1.0");
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => FollowAsync(hero))); // the phone, repeatedly and at once
        await Eventually.MatchesAsync(() => Task.FromResult(Opens()), o => o.Any(e => e.ProfileId == profile.Id), because: "the open exported");
        await FollowAsync(hero); // the chat shown again, long after
        await FollowAsync(ButtonOf(card)); // a click after the open implies no second open
        var (marker, markerProfile) = await SendCardAsync("Marker");
        await FollowAsync(ButtonOf(marker)); // a click without an image load: Clicked, and the implied Opened
        // The open and the click are two events, exported in whichever batches they fall into: the marker is in once both are.
        await Eventually.MatchesAsync(() => Task.FromResult((Opens: Opens(), Clicks: Clicks())),
            e => e.Opens.Any(o => o.ProfileId == markerProfile.Id) && e.Clicks.Any(c => c.ProfileId == markerProfile.Id), because: "the marker's click and implied open");

        Assert.Single(Opens(), e => e.ProfileId == profile.Id);
        Assert.Single(Clicks(), e => e.ProfileId == profile.Id);
        Assert.Single(Clicks(), e => e.ProfileId == markerProfile.Id);
        Assert.Equal(2, Opens().Count);
        Assert.Equal(0, Interlocked.Read(ref _scenario.Tenant.Klaviyo.DuplicateEventsIgnored)); // nothing reached Klaviyo twice
        // The send log shows what was tracked and recorded.
        var logged = (await _scenario.Admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{_scenario.WorkspaceId}/sends?recipient={profile.Properties["LINE User ID"]}"))!.Single()!;
        Assert.Equal((1, 1), (logged["trackedLinks"]!.GetValue<int>(), logged["trackedImages"]!.GetValue<int>()));
        Assert.NotNull(logged["openedAt"]);
        Assert.Equal([1], logged["clickedLinks"]!.AsArray().Select(n => n!.GetValue<int>()));
    }

    [Fact]
    public async Task AnAutoSendMessageSetsItsOwnUtmCampaignOrSwitchesTrackingOff()
    {
        var (campaign, _) = await SendCardAsync("Mei", utm: new() { ["utm_campaign"] = "spring sale" });
        var (untracked, _) = await SendCardAsync("Ken", track: false);

        var landing = await FollowAsync(ButtonOf(campaign));
        Assert.Equal("https://shop.example.com/new?utm_source=line&utm_medium=flow&utm_campaign=spring%20sale&utm_content=link-1", landing.Headers.Location!.OriginalString);
        Assert.Equal("https://shop.example.com/new", ButtonOf(untracked));
        Assert.Equal("https://cdn.example.com/hero.jpg", HeroOf(untracked));
        var refused = await _scenario.Admin.PostAsJsonAsync($"/api/manage/workspaces/{_scenario.WorkspaceId}/messages",
            new { name = "Bad", messages = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "hi" }), utm = new Dictionary<string, string> { ["ref"] = "x" } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("utm", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnAccountWithTrackingSwitchedOffSendsItsLinksAsTheyAre()
    {
        var off = await _scenario.Admin.PatchAsJsonAsync(_scenario.AccountPath(), new { trackOpensAndClicks = false });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.False((await off.Content.ReadFromJsonAsync<JsonObject>())!["trackOpensAndClicks"]!.GetValue<bool>());

        var (text, _, _) = await SendAsync("Sale https://shop.example.com/sale");

        Assert.Equal("Sale https://shop.example.com/sale", text);
    }

    [Fact]
    public async Task ALinkReachesLineAsATrackingUrlAndLandsWithUtmParametersMerged()
    {
        var (text, _, _) = await SendAsync("Sale: https://shop.example.com/sale?ref=a%20b&utm_source=newsletter#top, and https://shop.example.com/new.");

        Assert.DoesNotContain("shop.example.com", text);
        var urls = TrackingUrls(text);
        Assert.Equal(2, urls.Count);
        Assert.EndsWith(", and " + urls[1], text.TrimEnd('.')); // the sentence around the link is kept
        var first = await FollowAsync(urls[0]);
        var second = await FollowAsync(urls[1]);

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        // Its own utm_source wins, its encoding and fragment stay.
        Assert.Equal("https://shop.example.com/sale?ref=a%20b&utm_source=newsletter&utm_medium=flow&utm_campaign=flow-text&utm_content=link-1#top",
            first.Headers.Location!.OriginalString);
        Assert.Equal("https://shop.example.com/new?utm_source=line&utm_medium=flow&utm_campaign=flow-text&utm_content=link-2", second.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task TwoClicksInAWindowAreOneClickedEventAndPreviewBotsCountNothing()
    {
        var (botText, botOnlyProfile, _) = await SendAsync("Only bots look https://shop.example.com/bots");
        var (text, profile, _) = await SendAsync("New arrivals https://shop.example.com/new");
        var botUrl = TrackingUrls(botText).Single();
        var url = TrackingUrls(text).Single();

        // LINE's preview crawler (server-side, at send time), a scanner's HEAD, a request without a user agent.
        Assert.Equal(HttpStatusCode.Redirect, (await FollowAsync(botUrl, "facebookexternalhit/1.1;line-poker/1.0")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await FollowAsync(botUrl, Phone, HttpMethod.Head)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await FollowAsync(botUrl, null)).StatusCode);
        // A person, twice.
        Assert.Equal(HttpStatusCode.Redirect, (await FollowAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await FollowAsync(url)).StatusCode);
        // A later click on another send marks the end: everything before it has been exported by then.
        var (markerText, markerProfile, _) = await SendAsync("Marker https://shop.example.com/marker");
        Assert.Equal(HttpStatusCode.Redirect, (await FollowAsync(TrackingUrls(markerText).Single())).StatusCode);
        await Eventually.MatchesAsync(() => Task.FromResult(Clicks()), c => c.Any(e => e.ProfileId == markerProfile.Id), because: "the marker click");

        Assert.DoesNotContain(Clicks(), e => e.ProfileId == botOnlyProfile.Id);
        var click = Assert.Single(Clicks(), e => e.ProfileId == profile.Id);
        Assert.Equal(1, click.Properties["Link"]!.GetValue<int>());
        Assert.StartsWith("https://shop.example.com/new?utm_source=line", click.Properties["Destination"]!.GetValue<string>());
        Assert.Equal("flow", click.Properties["Source"]!.GetValue<string>());
        Assert.NotNull(click.Properties["Send ID"]);
    }

    [Theory]
    [InlineData("tampered")]
    [InlineData("truncated")]
    [InlineData("other-link")]
    [InlineData("foreign")]
    public async Task AnythingButOurOwnTrackingUrlIsA404AndRecordsNothing(string how)
    {
        var (text, _, _) = await SendAsync("Look https://shop.example.com/look");
        var url = TrackingUrls(text).Single();
        var bad = how switch
        {
            "tampered" => url[..^1] + (url[^1] == 'A' ? 'B' : 'A'),
            "truncated" => url[..^5],
            "other-link" => url.Replace("/1/", "/2/"),
            _ => "https://localhost/api/t/0123456789abcdef/0123456789abcdef0123456789abcdef/1/AAAAAAAAAAAAAAAA",
        };

        var answer = await FollowAsync(bad);

        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        Assert.Null(answer.Headers.Location);
        Assert.Contains("Link not found", await answer.Content.ReadAsStringAsync());
    }
}
