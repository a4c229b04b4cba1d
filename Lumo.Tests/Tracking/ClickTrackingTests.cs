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
/// Trackable links: every http(s) link of a Flow send reaches LINE as a signed tracking URL of ours; following it
/// lands on the destination with UTM parameters merged and records one Clicked LINE Message per click window for a
/// linked recipient; preview crawlers and scanners are redirected without counting; anything else is a 404.
/// </summary>
public sealed class ClickTrackingTests : IAsyncLifetime
{
    private const string Phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/15.12.1";
    private WorkspaceScenario _scenario = null!;
    private HttpClient _browser = null!;

    public async Task InitializeAsync()
    {
        _scenario = await WorkspaceScenario.StartAsync();
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
        System.Text.RegularExpressions.Regex.Matches(text, @"http://localhost/api/t/[A-Za-z0-9_/-]+").Select(m => m.Value).ToList();

    private Task<HttpResponseMessage> FollowAsync(string url, string? userAgent = Phone, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, new Uri(url).PathAndQuery);
        if (userAgent is not null) request.Headers.TryAddWithoutValidation("User-Agent", userAgent); // recorded as crawlers send them
        return _browser.SendAsync(request);
    }

    private IReadOnlyList<RecordedEvent> Clicks() => _scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.ClickedLineMessage);

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
            _ => "http://localhost/api/t/0123456789abcdef/0123456789abcdef0123456789abcdef/1/AAAAAAAAAAAAAAAA",
        };

        var answer = await FollowAsync(bad);

        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        Assert.Null(answer.Headers.Location);
        Assert.Contains("Link not found", await answer.Content.ReadAsStringAsync());
    }
}
