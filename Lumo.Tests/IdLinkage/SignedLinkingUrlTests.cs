using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Lumo.Core.IdLinkage;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Storage;
using Lumo.Sandbox.Klaviyo;
using Lumo.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Lumo.Tests.IdLinkage;

/// <summary>
/// Linking URLs that only their recipient can use: each profile of the linking-token segment holds a token Lumo
/// wrote (LINE Linking Token), the template inserts it, and the landing links only when the token is the profile's
/// own. Knowing a customer's email and phone is not enough, and the answer never tells whether they are a customer.
/// </summary>
public sealed class SignedLinkingUrlTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private LinkingCustomer _customer = null!;

    public async Task InitializeAsync()
    {
        // The quarter-hour timer would start passes of its own in the middle of a test that counts them.
        _scenario = await WorkspaceScenario.StartAsync(settings: new() { ["AzureWebJobs:IssueLinkingTokensSchedule:Disabled"] = "true" });
        _customer = await LinkingCustomer.SetUpAsync(_scenario);
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private SimulatedProfile Customer(string name)
    {
        var profile = _scenario.NewKlaviyoProfile($"{name}-{SandboxTenant.Hex(3)}@example.com");
        profile.PhoneNumber = $"+8190{Random.Shared.Next(10_000_000, 99_999_999)}";
        return profile;
    }

    private async Task<int> SessionRowsAsync()
    {
        var table = await _scenario.App.Service<LumoTables>().GetAsync(TableNames.LinkSessions, default);
        return await table.QueryAsync<TableEntity>(e => e.GetString("WorkspaceId") == _scenario.WorkspaceId).CountAsync();
    }

    private async Task<JsonObject> SettingsAsync() => (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/id-linkage"))!;

    [Fact]
    public async Task AnAttackerWhoKnowsTheEmailAndPhoneCannotLinkWhileTheCustomersOwnUrlLinksInOnePass()
    {
        var victim = Customer("victim");
        var attackerProfile = Customer("attacker");
        var code = await _customer.CreateQrCodeAsync("email", "phone");
        await _customer.GiveLinkingTokensAsync(victim, attackerProfile);
        var template = code["linkingUrl"]!.GetValue<string>();
        var attacker = _scenario.Tenant.AddFriend("Mallory");
        var sessionsBefore = await SessionRowsAsync();

        foreach (var token in new[] { null, "AAAAAAAAAAAAAAAAAAAAAA", LinkingCustomer.TokenOf(attackerProfile), "{{ person|lookup:'LINE Linking Token' }}" })
        {
            // The attacker's browser goes all the way through LINE Login, as their own LINE user.
            var page = await _customer.OtherBrowser().LinkAsync(LinkingCustomer.Rendered(template, victim.Email, victim.PhoneNumber, token), attacker);
            Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
            Assert.Contains("Nothing was linked", await page.Content.ReadAsStringAsync());
        }
        Assert.Equal(sessionsBefore, await SessionRowsAsync()); // refused landings write no session
        Assert.Equal(HttpStatusCode.NotFound, (await _scenario.Admin.GetAsync($"{_scenario.AccountPath()}/friends/{attacker.UserId}")).StatusCode);

        var customer = _scenario.Tenant.AddFriend("Victoria");
        var own = await _customer.LinkAsync(await _customer.OwnUrlAsync(code, victim), customer);

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(customer.UserId, victim.Properties["LINE User ID"]!.GetValue<string>());
        // Only the verified landing counted as a scan: the attacker's four, made earlier, did not reach the victim's profile.
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.LinkedLineIdentity)), e => e.Count == 1);
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.ScannedLineQrCode)), e => e.Count >= 1);
        Assert.Single(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.ScannedLineQrCode));
    }

    [Fact]
    public async Task KnownAndUnknownAddressesGetTheSameAnswerUntilLineLoginSucceeds()
    {
        var known = Customer("known");
        var code = await _customer.CreateQrCodeAsync("email");
        await _customer.GiveLinkingTokensAsync(known);
        var template = code["linkingUrl"]!.GetValue<string>();

        var answers = new List<HttpResponseMessage>();
        var browsers = new List<LinkingCustomer>();
        foreach (var url in new[]
        {
            LinkingCustomer.Rendered(template, known.Email), // a customer, no token
            LinkingCustomer.Rendered(template, "nobody-" + SandboxTenant.Hex(3) + "@example.com"), // not a customer
            LinkingCustomer.Rendered(template, "nobody-" + SandboxTenant.Hex(3) + "@example.com", token: LinkingCustomer.TokenOf(known)),
            await _customer.OwnUrlAsync(code, known), // the real thing
        })
        {
            browsers.Add(_customer.OtherBrowser());
            answers.Add(await browsers[^1].OpenAsync(url));
        }

        foreach (var answer in answers)
        {
            Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
            var location = answer.Headers.Location!;
            Assert.Equal(answers[0].Headers.Location!.GetLeftPart(UriPartial.Path), location.GetLeftPart(UriPartial.Path));
            Assert.Equal(QueryHelpers.ParseQuery(answers[0].Headers.Location!.Query).Keys.Order(), QueryHelpers.ParseQuery(location.Query).Keys.Order());
            Assert.Equal(43, QueryHelpers.ParseQuery(location.Query)["state"].ToString().Length);
            var cookie = Assert.Single(answer.Headers.GetValues("Set-Cookie"));
            Assert.Equal(Shape(Assert.Single(answers[0].Headers.GetValues("Set-Cookie"))), Shape(cookie));
            Assert.Equal(await answers[0].Content.ReadAsStringAsync(), await answer.Content.ReadAsStringAsync());
        }

        // Nor does poking the callback with each landing's state, without logging in to LINE: a made-up code, a
        // cancellation. Every attempt, real or not, reads the same.
        foreach (var poke in new[] { "code=made-up-code", "error=access_denied" })
        {
            var pages = new List<(HttpStatusCode, string)>();
            for (var i = 0; i < answers.Count; i++)
            {
                var state = QueryHelpers.ParseQuery(answers[i].Headers.Location!.Query)["state"];
                var page = await browsers[i].OpenAsync($"http://localhost/api/link/callback?state={state}&{poke}");
                pages.Add((page.StatusCode, await page.Content.ReadAsStringAsync()));
            }
            Assert.All(pages, page => Assert.Equal(pages[0], page));
            Assert.Equal(HttpStatusCode.BadRequest, pages[0].Item1);
        }
        Assert.False(known.Properties.ContainsKey("LINE User ID"));
    }

    // A cookie with its name suffix and value taken out: what stays is what could tell the answers apart.
    private static string Shape(string cookie) => string.Join(";", cookie.Split(';').Skip(1).Select(p => p.Trim()).Where(p => !p.StartsWith("expires")));

    [Fact]
    public async Task ACodeMadeBeforeTokensKeepsLinkingUnsignedUrlsUntilItIsSwitched()
    {
        var early = Customer("early");
        var late = Customer("late");
        // A code row as versions before linking tokens wrote it: no SignedUrlsOnly column.
        var codes = await _scenario.App.Service<LumoTables>().GetAsync(TableNames.LinkQrCodes, default);
        await codes.AddEntityAsync(new TableEntity(AccountPartition.Of(_scenario.WorkspaceId, _scenario.AccountId), "c0ffee000001")
        {
            ["Name"] = "Printed flyer", ["UsesEmail"] = true, ["UsesPhone"] = false, ["CreatedAt"] = DateTimeOffset.UtcNow.AddYears(-1),
        });
        var path = $"{_scenario.AccountPath()}/qr-codes/c0ffee000001";
        var code = (await _scenario.Admin.GetFromJsonAsync<JsonObject>(path))!;
        Assert.False(code["signedUrlsOnly"]!.GetValue<bool>());
        var unsignedTemplate = code["linkingUrl"]!.GetValue<string>();

        var linked = await _customer.LinkAsync(LinkingCustomer.Rendered(unsignedTemplate, early.Email), _scenario.Tenant.AddFriend("Early"));
        Assert.Equal(HttpStatusCode.OK, linked.StatusCode);
        Assert.True(early.Properties.ContainsKey("LINE User ID"));
        // A token that is there must still be the profile's own.
        var wrongToken = await _customer.OtherBrowser().LinkAsync(LinkingCustomer.Rendered(unsignedTemplate, late.Email, token: "AAAAAAAAAAAAAAAAAAAAAA"), _scenario.Tenant.AddFriend("Wrong"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongToken.StatusCode);

        var switched = await _scenario.Admin.PatchAsJsonAsync(path, new { signedUrlsOnly = true });
        Assert.Equal(HttpStatusCode.OK, switched.StatusCode);
        var refused = await _customer.OtherBrowser().LinkAsync(LinkingCustomer.Rendered(unsignedTemplate, late.Email), _scenario.Tenant.AddFriend("Unsigned"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.False(late.Properties.ContainsKey("LINE User ID"));
        var signed = await _customer.LinkAsync(await _customer.OwnUrlAsync((await _scenario.Admin.GetFromJsonAsync<JsonObject>(path))!, late), _scenario.Tenant.AddFriend("Late"));
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
    }

    [Fact]
    public async Task EachMemberIsWrittenItsTokenOnceHoweverManyPassesRun()
    {
        var first = Customer("first");
        var second = Customer("second");
        await _customer.GiveLinkingTokensAsync(first, second);
        var firstToken = LinkingCustomer.TokenOf(first);
        var third = Customer("third");
        await _customer.GiveLinkingTokensAsync(third); // a second pass: only the new member needs a write
        var startedAfter = DateTimeOffset.UtcNow;
        Assert.Equal(HttpStatusCode.Accepted, (await _scenario.Admin.PostAsync($"{_scenario.AccountPath()}/id-linkage/linking-tokens", null)).StatusCode);

        var lastPass = await PassAsync(startedAfter);
        Assert.Equal(3, lastPass["profiles"]!.GetValue<int>());
        Assert.Equal(0, lastPass["written"]!.GetValue<int>());
        // What Klaviyo received over all passes: each member's token once.
        Assert.Equal(3, _scenario.Tenant.Klaviyo.ImportJobs.Values.Sum(job => job.Total));
        Assert.Equal(firstToken, LinkingCustomer.TokenOf(first));
        Assert.Equal(3, new[] { first, second, third }.Select(LinkingCustomer.TokenOf).Distinct().Count());
        Assert.Equal("LINE Linking Token", (await SettingsAsync())["linkingTokens"]!["property"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnAttemptFinishedAfterItExpiredLinksNothing()
    {
        var profile = Customer("slow");
        var code = await _customer.CreateQrCodeAsync("email");
        var landing = await _customer.OpenAsync(await _customer.OwnUrlAsync(code, profile));
        var callback = await _customer.LogInToLineAsync(landing, _scenario.Tenant.AddFriend("Slow"));
        // Eleven minutes pass before the customer comes back from LINE.
        var sessions = await _scenario.App.Service<LumoTables>().GetAsync(TableNames.LinkSessions, default);
        var state = QueryHelpers.ParseQuery(landing.Headers.Location!.Query)["state"].ToString();
        await sessions.UpdateEntityAsync(new TableEntity(state, "") { ["ExpiresAt"] = DateTimeOffset.UtcNow.AddMinutes(-1) }, Azure.ETag.All, TableUpdateMode.Merge);

        var page = await _customer.ReturnFromLineAsync(callback);

        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Contains("for 10 minutes", await page.Content.ReadAsStringAsync());
        Assert.False(profile.Properties.ContainsKey("LINE User ID"));
    }

    [Fact]
    public async Task RotatingTheTokensStopsEveryUrlSentBeforeAndTheNewOnesLink()
    {
        var profile = Customer("leaked");
        var code = await _customer.CreateQrCodeAsync("email");
        var leakedUrl = await _customer.OwnUrlAsync(code, profile);
        var oldToken = LinkingCustomer.TokenOf(profile);

        var rotate = await _scenario.Admin.PostAsync($"{_scenario.AccountPath()}/id-linkage/linking-tokens/rotate", null);
        Assert.Equal(HttpStatusCode.Accepted, rotate.StatusCode);
        await Eventually.MatchesAsync(() => Task.FromResult(LinkingCustomer.TokenOf(profile)), token => token != oldToken, because: "the new token written");
        Assert.Equal(1, (await SettingsAsync())["linkingTokens"]!["version"]!.GetValue<int>());

        var stale = await _customer.OtherBrowser().LinkAsync(leakedUrl, _scenario.Tenant.AddFriend("Finder"));
        Assert.Equal(HttpStatusCode.BadRequest, stale.StatusCode);
        Assert.False(profile.Properties.ContainsKey("LINE User ID"));
        var fresh = await _customer.LinkAsync(await _customer.OwnUrlAsync(code, profile), _scenario.Tenant.AddFriend("Owner"));
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
    }

    [Fact]
    public async Task ALongSegmentIsHandedOverAndFinishedByOnePassWhileOtherRequestsWait()
    {
        var members = Enumerable.Range(0, 250).Select(i => _scenario.NewKlaviyoProfile($"member{i}-{SandboxTenant.Hex(3)}@example.com")).ToList();
        _scenario.Tenant.Klaviyo.Segments[_customer.TokenSegmentId].ProfileIds.AddRange(members.Select(m => m.Id));
        var issuer = _scenario.App.Service<LinkingTokenIssuer>();
        issuer.RunBudget = TimeSpan.Zero; // one page, then hand over (the continuation runs on the queue)
        var requestedBefore = DateTimeOffset.UtcNow;

        var first = await issuer.RunAsync(new LinkingTokenRequest(_scenario.WorkspaceId, _scenario.AccountId, requestedBefore), default);
        var meanwhile = await _scenario.App.Service<LinkingTokenIssuer>().RunAsync(new LinkingTokenRequest(_scenario.WorkspaceId, _scenario.AccountId, requestedBefore), default);

        Assert.Equal(("running", 100), (first!.Status, first.Profiles));
        Assert.Null(meanwhile); // the hand-over keeps the lease: no second pass starts from page one
        var done = await PassAsync(startedAfter: requestedBefore);
        Assert.Equal(first.Id, done["id"]!.GetValue<string>());
        Assert.Equal((250, 250), (done["profiles"]!.GetValue<int>(), done["written"]!.GetValue<int>()));
        Assert.All(members, m => Assert.NotNull(LinkingCustomer.TokenOf(m)));
        // The waiting request was looked at again after the pass (its message is gone from the queue) and found its
        // work done: Klaviyo got each token once.
        var queue = await _scenario.App.Service<LumoQueues>().GetAsync(QueueNames.LinkingTokens);
        await Eventually.MatchesAsync(async () => (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount, count => count == 0,
            timeout: LinkingTokenIssuer.BusyRetryDelay * 3, because: "the deferred request handled");
        Assert.Equal(250, _scenario.Tenant.Klaviyo.ImportJobs.Values.Sum(job => job.Total));
        Assert.Equal(first.Id, (await SettingsAsync())["linkingTokens"]!["lastPass"]!["id"]!.GetValue<string>());
    }

    private async Task<JsonObject> PassAsync(DateTimeOffset startedAfter) =>
        (await Eventually.MatchesAsync(async () => (await SettingsAsync())["linkingTokens"]?["lastPass"] as JsonObject,
            pass => pass?["status"]?.GetValue<string>() == "completed" && pass["startedAt"]!.GetValue<DateTimeOffset>() > startedAfter,
            because: "a completed linking-token pass"))!;

    [Fact]
    public async Task ACodeThatRefusesUnsignedUrlsNeedsATokenSegmentAndBadChangesAreRefused()
    {
        var signed = await _customer.CreateQrCodeAsync("email");
        var path = $"{_scenario.AccountPath()}/qr-codes/{signed["id"]}";
        var withoutTokens = new { loginChannelId = _customer.LoginChannelId, loginChannelSecret = _customer.LoginChannelSecret };
        // Dropping the token segment while a code needs tokens would silently stop it linking anyone.
        var drop = await _scenario.Admin.PutAsJsonAsync($"{_scenario.AccountPath()}/id-linkage", withoutTokens);
        Assert.Equal(HttpStatusCode.BadRequest, drop.StatusCode);
        Assert.Contains("Store counter", await drop.Content.ReadAsStringAsync());
        Assert.Equal("SEGTOKENS", (await SettingsAsync())["linkingTokens"]!["segmentId"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.BadRequest, (await _scenario.Admin.PatchAsJsonAsync(path, new { })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _scenario.Admin.PatchAsJsonAsync(path, new { signedUrlsOnly = false })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _scenario.Admin.PutAsJsonAsync($"{_scenario.AccountPath()}/id-linkage", withoutTokens)).StatusCode);

        var refused = await _scenario.Admin.PostAsJsonAsync($"{_scenario.AccountPath()}/qr-codes", new { name = "Counter", signals = new[] { "email" } });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("linkingTokens.segmentId", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, (await _scenario.Admin.PatchAsJsonAsync(path, new { signedUrlsOnly = true })).StatusCode);
        Assert.False((await _scenario.Admin.GetFromJsonAsync<JsonObject>(path))!["signedUrlsOnly"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NotFound, (await _scenario.Admin.PatchAsJsonAsync($"{_scenario.AccountPath()}/qr-codes/0123456789ab", new { signedUrlsOnly = false })).StatusCode);
        var unknownSegment = await _scenario.Admin.PutAsJsonAsync($"{_scenario.AccountPath()}/id-linkage",
            new { loginChannelId = _customer.LoginChannelId, linkingTokens = new { segmentId = "NOSUCHSEG" } });
        Assert.Equal(HttpStatusCode.BadRequest, unknownSegment.StatusCode);
        Assert.Contains("linkingTokenSegmentId", await unknownSegment.Content.ReadAsStringAsync());
    }
}
