using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Lumo.Core.KlaviyoEvents;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.IdLinkage;

/// <summary>
/// Importing existing LINE user IDs: profiles of a source segment whose property names a friend of the account are
/// linked (properties written, event recorded once); a re-run changes nothing; removing the segment stops it; the
/// quarter-hour timer queues the import.
/// </summary>
public sealed class ExistingIdImportTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private const string Property = "legacy_line_id";

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync();

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private (LineUser User, SimulatedProfile Profile) ProfileWithId(string name, bool friend = true)
    {
        var user = friend ? _scenario.Tenant.AddFriend(name) : new LineUser("U" + SandboxTenant.Hex(16), name);
        var profile = _scenario.NewKlaviyoProfile($"{name.ToLowerInvariant()}-{SandboxTenant.Hex(3)}@example.com");
        profile.Properties[Property] = user.UserId;
        return (user, profile);
    }

    private async Task<JsonObject> RunImportAsync(int expectedRuns)
    {
        var run = await _scenario.Admin.PostAsync($"{_scenario.AccountPath()}/id-linkage/imports", null);
        Assert.Equal(HttpStatusCode.Accepted, run.StatusCode);
        var history = await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/id-linkage/imports")!,
            h => h!.Count == expectedRuns && h[0]!["status"]!.GetValue<string>() != "running", because: "the import run finishes");
        return history![0]!.AsObject();
    }

    [Fact]
    public async Task LinksSegmentProfilesWhoseIdIsAFriendAndARerunChangesNothing()
    {
        var known = ProfileWithId("Known");
        await _scenario.FollowAsync(known.User);
        var beforeLumo = ProfileWithId("BeforeLumo"); // a friend Lumo never got a webhook for
        var stranger = ProfileWithId("Stranger", friend: false);
        var noId = _scenario.NewKlaviyoProfile("noid@example.com");
        var taken = ProfileWithId("Taken");
        var (holder, _) = await _scenario.LinkedFriendAsync("Holder");
        taken.Profile.Properties[Property] = holder.UserId; // its LINE user is already linked to another profile
        var members = new[] { known.Profile, beforeLumo.Profile, stranger.Profile, noId, taken.Profile }.Select(p => p.Id).ToList();
        _scenario.Tenant.Klaviyo.Segments["SEGLEGACY"] = new ProfileGroup("SEGLEGACY", "Has legacy LINE ID", members);
        await LinkingCustomer.SetUpAsync(_scenario, import: new { segmentId = "SEGLEGACY", lineUserIdProperty = Property });

        var first = await RunImportAsync(1);

        Assert.Equal(("completed", 5, 2, 1, 1, 1), (first["status"]!.GetValue<string>(), first["profiles"]!.GetValue<int>(), first["linked"]!.GetValue<int>(),
            first["notFriends"]!.GetValue<int>(), first["withoutUserId"]!.GetValue<int>(), first["conflicts"]!.GetValue<int>()));
        foreach (var (user, profile) in new[] { known, beforeLumo })
        {
            var friend = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{user.UserId}"))!;
            Assert.Equal(profile.Id, friend["klaviyo"]!["profileId"]!.GetValue<string>());
            Assert.Equal("import", friend["klaviyo"]!["linkedHow"]!.GetValue<string>());
            await Eventually.MatchesAsync(() => Task.FromResult(profile.Properties.ToJsonString()), p => p.Contains("\"LINE Follow Status\":\"friend\""),
                because: "the bulk import job writes the LINE properties");
            // A friend LINE confirmed (no follow webhook ever seen) has consent too: the required properties come together.
            Assert.Equal("granted", profile.Properties["LINE Consent"]!.GetValue<string>());
            Assert.NotNull(profile.Properties["LINE Consent Updated At"]);
            Assert.Equal("granted", friend["consent"]!.GetValue<string>());
        }
        Assert.EndsWith("(friendship confirmed by LINE)", beforeLumo.Profile.Properties["LINE Consent Source"]!.GetValue<string>());
        Assert.False(stranger.Profile.Properties.ContainsKey("LINE User ID"));

        var second = await RunImportAsync(2);
        Assert.Equal((0, 2), (second["linked"]!.GetValue<int>(), second["alreadyLinked"]!.GetValue<int>()));
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.LinkedLineIdentity)), e => e.Count >= 3);
        await Task.Delay(TimeSpan.FromSeconds(4));
        var linkedEvents = _scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.LinkedLineIdentity);
        Assert.Single(linkedEvents, e => e.ProfileId == known.Profile.Id);
        Assert.Single(linkedEvents, e => e.ProfileId == beforeLumo.Profile.Id);
    }

    [Fact]
    public async Task RemovingTheSourceSegmentStopsTheImport()
    {
        var (user, profile) = ProfileWithId("Later");
        _scenario.Tenant.Klaviyo.Segments["SEGSTOP"] = new ProfileGroup("SEGSTOP", "Stop me", [profile.Id]);
        var customer = await LinkingCustomer.SetUpAsync(_scenario, import: new { segmentId = "SEGSTOP", lineUserIdProperty = Property });
        var settings = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/id-linkage"))!;
        Assert.Equal("every 15 minutes", settings["import"]!["schedule"]!.GetValue<string>());

        await _scenario.Admin.PutAsJsonAsync($"{_scenario.AccountPath()}/id-linkage", new { loginChannelId = customer.LoginChannelId });
        var run = await _scenario.Admin.PostAsync($"{_scenario.AccountPath()}/id-linkage/imports", null);
        var schedule = await TimerAsync("ImportLineUserIdsSchedule");

        Assert.Equal(HttpStatusCode.Conflict, run.StatusCode);
        Assert.Contains("Queued 0", schedule);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/id-linkage/imports"))!);
        Assert.False(profile.Properties.ContainsKey("LINE User ID"));
    }

    [Fact]
    public async Task TheQuarterHourTimerQueuesEveryConfiguredImport()
    {
        var (user, profile) = ProfileWithId("Timer");
        _scenario.Tenant.Klaviyo.Segments["SEGTIMER"] = new ProfileGroup("SEGTIMER", "Timer", [profile.Id]);
        await LinkingCustomer.SetUpAsync(_scenario, import: new { segmentId = "SEGTIMER", lineUserIdProperty = Property });
        var functionJson = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "ImportLineUserIdsSchedule", "function.json")))!;
        Assert.Equal("0 */15 * * * *", functionJson["bindings"]![0]!["schedule"]!.GetValue<string>());

        Assert.Contains("Queued 1", await TimerAsync("ImportLineUserIdsSchedule"));

        await Eventually.MatchesAsync(async () => await _scenario.Admin.GetStringAsync($"{_scenario.AccountPath()}/friends")!,
            friends => friends.Contains(user.UserId) && friends.Contains(profile.Id), because: "the queued import links the profile");
    }

    // The Functions host's timer invocation, as the custom handler receives it.
    private async Task<string> TimerAsync(string function)
    {
        var payload = """{"Data":{"timer":{"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"__F__","UtcNow":"2026-11-22T00:15:00Z"}}}""".Replace("__F__", function);
        var response = await _scenario.Client.PostAsync($"/{function}", new StringContent(payload, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task ARunThatHandsOverKeepsTheLeaseSoAScheduledRunCannotStartTheSegmentAgain()
    {
        var members = Enumerable.Range(0, 150).Select(i => _scenario.NewKlaviyoProfile($"bulk{i}-{SandboxTenant.Hex(3)}@example.com").Id).ToList();
        _scenario.Tenant.Klaviyo.Segments["SEGLONG"] = new ProfileGroup("SEGLONG", "Long", members);
        await LinkingCustomer.SetUpAsync(_scenario, import: new { segmentId = "SEGLONG", lineUserIdProperty = Property });
        var import = _scenario.App.Service<Lumo.Core.IdLinkage.LineUserIdImport>();
        import.RunBudget = TimeSpan.Zero; // one page, then hand over to the queue

        var first = await import.RunAsync(new(_scenario.WorkspaceId, _scenario.AccountId), default);
        var scheduled = await _scenario.App.Service<Lumo.Core.IdLinkage.LineUserIdImport>().RunAsync(new(_scenario.WorkspaceId, _scenario.AccountId), default);

        Assert.Equal(("running", 100), (first!.Status, first.Profiles));
        Assert.Null(scheduled); // the continuation holds the way
        var runs = await Eventually.MatchesAsync(async () => (await _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/id-linkage/imports"))!,
            r => r.Count == 1 && r[0]!["status"]!.GetValue<string>() == "completed", because: "the one run, finished by its continuation");
        Assert.Equal((first.Id, 150), (runs[0]!["id"]!.GetValue<string>(), runs[0]!["profiles"]!.GetValue<int>()));
    }

    [Fact]
    public async Task AContinuationTakesOverFromTheRunThatQueuedItWhileThatRunStillHoldsTheLease()
    {
        var member = ProfileWithId("Later");
        _scenario.Tenant.Klaviyo.Segments["SEGHANDOVER"] = new ProfileGroup("SEGHANDOVER", "Handover", [member.Profile.Id]);
        await LinkingCustomer.SetUpAsync(_scenario, import: new { segmentId = "SEGHANDOVER", lineUserIdProperty = Property });
        // The previous invocation has queued its continuation and not yet released its lease: exactly the moment of the race.
        var leases = _scenario.App.Service<Lumo.Core.Storage.LeaseStore>();
        var leaseKey = $"{_scenario.WorkspaceId}:{_scenario.AccountId}";
        Assert.True(await leases.TryAcquireAsync("line-user-id-import", leaseKey, "previous-invocation", TimeSpan.FromMinutes(10), default));
        var import = _scenario.App.Service<Lumo.Core.IdLinkage.LineUserIdImport>();

        var stranger = await import.RunAsync(new(_scenario.WorkspaceId, _scenario.AccountId), default);
        var continuation = await import.RunAsync(new(_scenario.WorkspaceId, _scenario.AccountId, HandoverFrom: "previous-invocation"), default);

        Assert.Null(stranger); // anyone else still waits for the lease
        Assert.NotNull(continuation);
        Assert.Equal(("completed", 1), (continuation.Status, continuation.Linked));
    }
}
