using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Connections;
using Lumo.Core.SyncData;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Klaviyo;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.SyncData;

/// <summary>
/// Sync rules (required LINE properties always written, Display Name optional, Klaviyo fields checked against the
/// account, If-Match) and the Klaviyo → Lumo pull: chosen fields of changed profiles arrive on linked friends, never
/// older over newer; a value of the wrong kind is a per-profile failure; pulled email and phone link an unlinked
/// friend whose contact details both match; a credential refused mid-pull pauses it and it goes on after reconnecting.
/// </summary>
public sealed class SyncRulesAndPullTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync();

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private string RulesPath => $"{_scenario.AccountPath()}/sync-rules";

    private async Task<(JsonObject Rules, string ETag)> GetRulesAsync()
    {
        var response = await _scenario.Admin.GetAsync(RulesPath);
        return ((await response.Content.ReadFromJsonAsync<JsonObject>())!, response.Headers.ETag!.ToString());
    }

    private async Task<HttpResponseMessage> PutRulesAsync(object draft, string? etag)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, RulesPath) { Content = JsonContent.Create(draft) };
        if (etag is not null) request.Headers.TryAddWithoutValidation("If-Match", etag);
        return await _scenario.Admin.SendAsync(request);
    }

    private async Task<JsonObject> PullAsync(int expectedRuns)
    {
        Assert.Equal(HttpStatusCode.Accepted, (await _scenario.Admin.PostAsync($"{_scenario.AccountPath()}/klaviyo-pull", null)).StatusCode);
        var runs = await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/sync-runs"),
            r => r!.Count(x => x!["kind"]!.GetValue<string>() == "klaviyo-pull" && x["status"]!.GetValue<string>() == "completed") == expectedRuns, because: "the pull finishes");
        return runs!.First(x => x!["kind"]!.GetValue<string>() == "klaviyo-pull")!.AsObject();
    }

    private async Task<JsonObject> FriendAsync(string userId) => (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{userId}"))!;

    [Fact]
    public async Task RequiredPropertiesStayOnUnknownFieldsAndStaleEditsAreRefusedAndNothingIsWritten()
    {
        _scenario.NewKlaviyoProfile("sample@example.com"); // carries "Loyalty tier"
        // The connection checks write the account row too: after them, its ETag changes only when the rules do.
        await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{_scenario.WorkspaceId}/dashboard"),
            d => d!["status"]!["health"]!.GetValue<string>() == "healthy");
        var (rules, etag) = await GetRulesAsync();
        Assert.Equal(["LINE User ID", "LINE Display Name", "LINE Follow Status", "LINE Consent", "LINE Consent Updated At", "LINE Consent Source"],
            rules["lumoToKlaviyo"]!.AsArray().Select(f => f!["property"]!.GetValue<string>()));
        Assert.Equal(5, rules["lumoToKlaviyo"]!.AsArray().Count(f => f!["required"]!.GetValue<bool>()));
        var choices = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{RulesPath}/klaviyo-fields"))!;
        Assert.Contains("first_name", choices["standard"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Contains("properties.Loyalty tier", choices["custom"]!.AsArray().Select(f => f!.GetValue<string>()));

        var required = await PutRulesAsync(new { lumoToKlaviyo = new Dictionary<string, bool> { ["LINE Consent"] = false } }, etag);
        var unknownProperty = await PutRulesAsync(new { klaviyoToLumo = new[] { "properties.Shoe size" } }, etag);
        var unknownField = await PutRulesAsync(new { klaviyoToLumo = new[] { "shoe_size" } }, etag);
        var notOurs = await PutRulesAsync(new { lumoToKlaviyo = new Dictionary<string, bool> { ["LINE Mood"] = true } }, etag);
        var stale = await PutRulesAsync(new { klaviyoToLumo = new[] { "first_name" } }, "W/\"datetime'2001-01-01T00%3A00%3A00Z'\"");

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.PreconditionFailed],
            new[] { required, unknownProperty, unknownField, notOurs, stale }.Select(r => r.StatusCode));
        Assert.Contains("cannot be turned off", await required.Content.ReadAsStringAsync());
        Assert.Contains("Shoe size", await unknownProperty.Content.ReadAsStringAsync());
        var (after, afterETag) = await GetRulesAsync();
        Assert.Equal(etag, afterETag);
        Assert.Empty(after["klaviyoToLumo"]!.AsArray());
    }

    [Fact]
    public async Task TurningDisplayNameOffStopsWritingItAndDeletesNothing()
    {
        var (_, before) = await _scenario.LinkedFriendAsync("Shown");
        var (_, etag) = await GetRulesAsync();

        var saved = await PutRulesAsync(new { lumoToKlaviyo = new Dictionary<string, bool> { ["LINE Display Name"] = false } }, etag);
        var (_, after) = await _scenario.LinkedFriendAsync("Hidden");

        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        await Eventually.MatchesAsync(() => Task.FromResult(after.Properties.ToJsonString()), p => p.Contains("\"LINE Consent\":\"granted\""));
        Assert.False(after.Properties.ContainsKey("LINE Display Name"));
        Assert.Equal("Shown", before.Properties["LINE Display Name"]!.GetValue<string>()); // what was written stays
    }

    [Fact]
    public async Task APullBringsChosenFieldsOfChangedLinkedProfilesAndRecordsAValueOfTheWrongKindAsAFailure()
    {
        var (aiko, aikoProfile) = await _scenario.LinkedFriendAsync("Aiko");
        aikoProfile.Standard["first_name"] = "Aiko";
        var (odd, oddProfile) = await _scenario.LinkedFriendAsync("Odd");
        oddProfile.Properties["Loyalty tier"] = new JsonObject { ["level"] = 3 };
        var (_, etag) = await GetRulesAsync();
        Assert.Equal(HttpStatusCode.OK, (await PutRulesAsync(new { klaviyoToLumo = new[] { "first_name", "properties.Loyalty tier" } }, etag)).StatusCode);

        var first = await PullAsync(1);

        var fields = (await FriendAsync(aiko.UserId))["klaviyoFields"]!.AsObject();
        Assert.Equal(("Aiko", "gold"), (fields["first_name"]!.GetValue<string>(), fields["properties.Loyalty tier"]!.GetValue<string>()));
        Assert.Equal(1, first["failures"]!.GetValue<int>());
        var failure = Assert.Single(first["failureDetails"]!.AsArray())!.GetValue<string>();
        Assert.Contains(oddProfile.Id, failure);
        Assert.Contains("properties.Loyalty tier is an object", failure);
        Assert.Empty((await FriendAsync(odd.UserId))["klaviyoFields"]!.AsObject());

        // Aiko renames herself in Klaviyo: the next pull brings it.
        lock (_scenario.Tenant.Klaviyo.Gate)
        {
            aikoProfile.Standard["first_name"] = "Aiko-chan";
            aikoProfile.Updated = DateTimeOffset.UtcNow.AddSeconds(1);
        }
        var second = await PullAsync(2);
        Assert.Equal("Aiko-chan", (await FriendAsync(aiko.UserId))["klaviyoFields"]!["first_name"]!.GetValue<string>());
        Assert.Equal(1, second["counts"]!["friendsUpdated"]!.GetValue<int>());
        var renamedAt = (await FriendAsync(aiko.UserId))["klaviyoFieldsUpdatedAt"]!.GetValue<DateTimeOffset>();

        // A change to a field that is not pulled makes the profile "updated" too, but leaves the friend as it is.
        lock (_scenario.Tenant.Klaviyo.Gate)
        {
            aikoProfile.Properties["Shoe size"] = 23;
            aikoProfile.Updated = DateTimeOffset.UtcNow.AddSeconds(2);
        }
        var unchanged = await PullAsync(3);
        Assert.Equal(1, unchanged["counts"]!["unchanged"]!.GetValue<int>());
        Assert.Null(unchanged["counts"]!["friendsUpdated"]);
        var after = await FriendAsync(aiko.UserId);
        Assert.Equal(("Aiko-chan", renamedAt), (after["klaviyoFields"]!["first_name"]!.GetValue<string>(), after["klaviyoFieldsUpdatedAt"]!.GetValue<DateTimeOffset>()));

        // An older version of the profile (a slow page, a stale replica) never overwrites the newer one.
        lock (_scenario.Tenant.Klaviyo.Gate)
        {
            aikoProfile.Standard["first_name"] = "Old Aiko";
            aikoProfile.Updated = DateTimeOffset.UtcNow.AddMinutes(-1);
        }
        var third = await PullAsync(4);
        Assert.Equal("Aiko-chan", (await FriendAsync(aiko.UserId))["klaviyoFields"]!["first_name"]!.GetValue<string>());
        Assert.Equal(1, third["counts"]!["olderIgnored"]!.GetValue<int>());
    }

    [Fact]
    public async Task PulledEmailAndPhoneLinkAnUnlinkedFriendWhoseContactDetailsBothMatch()
    {
        var both = _scenario.Tenant.AddFriend("Both");
        var half = _scenario.Tenant.AddFriend("Half");
        await _scenario.FollowAsync(both);
        await _scenario.FollowAsync(half);
        // Contact details given before any Klaviyo profile had them: nothing to link to yet.
        await _scenario.Admin.PatchAsJsonAsync($"{_scenario.AccountPath()}/friends/{both.UserId}", new { email = "both@example.com", phoneNumber = "+819011112222" });
        await _scenario.Admin.PatchAsJsonAsync($"{_scenario.AccountPath()}/friends/{half.UserId}", new { email = "half@example.com", phoneNumber = "+819033334444" });
        var (_, etag) = await GetRulesAsync();
        Assert.Equal(HttpStatusCode.OK, (await PutRulesAsync(new { klaviyoToLumo = new[] { "email", "phone_number", "first_name" } }, etag)).StatusCode);
        var bothProfile = _scenario.NewKlaviyoProfile("both@example.com");
        bothProfile.PhoneNumber = "+819011112222";
        bothProfile.Standard["first_name"] = "Both";
        var halfProfile = _scenario.NewKlaviyoProfile("half@example.com");
        halfProfile.PhoneNumber = "+819099999999"; // the email matches, the phone does not

        var run = await PullAsync(1);

        Assert.Equal(1, run["counts"]!["autoLinked"]!.GetValue<int>());
        var linked = await FriendAsync(both.UserId);
        Assert.Equal((bothProfile.Id, "auto-synced-data", "Both"), (linked["klaviyo"]!["profileId"]!.GetValue<string>(), linked["klaviyo"]!["linkedHow"]!.GetValue<string>(),
            linked["klaviyoFields"]!["first_name"]!.GetValue<string>()));
        Assert.False((await FriendAsync(half.UserId))["klaviyo"]!["linked"]!.GetValue<bool>());
        await Eventually.MatchesAsync(() => Task.FromResult(bothProfile.Properties.ToJsonString()), p => p.Contains(both.UserId), because: "linking writes the LINE properties");
    }

    [Fact]
    public async Task APagesFriendsAreWrittenTogetherOnlyWhenNoneChangedSinceTheyWereRead()
    {
        await using var quiet = await WorkspaceScenario.StartAsync(runTriggers: false);
        var store = quiet.App.Service<Lumo.Core.Friends.LineFriendStore>();
        var userIds = new[] { quiet.Tenant.AddFriend("One").UserId, quiet.Tenant.AddFriend("Two").UserId };
        var before = new Dictionary<string, string> { ["first_name"] = "before" };
        foreach (var userId in userIds)
            await store.SaveAsync(new Lumo.Core.Friends.LineFriend { WorkspaceId = quiet.WorkspaceId, AccountId = quiet.AccountId, UserId = userId, DisplayName = "Fan", KlaviyoFields = before }, default);
        async Task<List<Lumo.Core.Friends.LineFriend>> ReadAsync() =>
            [.. (await Task.WhenAll(userIds.Select(u => store.GetIfExistsAsync(quiet.WorkspaceId, quiet.AccountId, u, default)))).Select(f => f!)];
        List<Lumo.Core.Friends.LineFriend> Pulled(IEnumerable<Lumo.Core.Friends.LineFriend> friends, string? firstName) =>
            [.. friends.Select(f => f with { KlaviyoFields = firstName is null ? new Dictionary<string, string>() : new() { ["first_name"] = firstName }, KlaviyoFieldsUpdatedAt = DateTimeOffset.UtcNow })];
        List<string?> FirstNames(IEnumerable<Lumo.Core.Friends.LineFriend> friends) => [.. friends.Select(f => f.KlaviyoFields.GetValueOrDefault("first_name"))];
        var read = await ReadAsync();
        await store.SaveAsync(read[1] with { DisplayName = "a webhook's" }, default); // another writer, after the pull read them

        Assert.False(await store.TrySetPulledFieldsAsync(Pulled(read, "the pull's"), default));
        Assert.Equal(["before", "before"], FirstNames(await ReadAsync())); // neither written

        Assert.True(await store.TrySetPulledFieldsAsync(Pulled(await ReadAsync(), "the pull's"), default));
        var written = await ReadAsync();
        Assert.Equal(["the pull's", "the pull's"], FirstNames(written));
        Assert.Equal(["Fan", "a webhook's"], written.Select(f => f.DisplayName)); // the rest of each row as it was
        // A profile whose chosen fields are all empty now leaves none on the friend.
        Assert.True(await store.TrySetPulledFieldsAsync(Pulled(written, null), default));
        Assert.All(await ReadAsync(), f => Assert.Empty(f.KlaviyoFields));
        // A friend without the ETag it was read with would be written unconditionally: refused, nothing written.
        await Assert.ThrowsAsync<ArgumentException>(() => store.TrySetPulledFieldsAsync([.. Pulled(read, "blind").Select(f => f with { ETag = null })], default));
        Assert.All(await ReadAsync(), f => Assert.Empty(f.KlaviyoFields));
    }

    [Fact]
    public async Task AKeyRefusedMidPullPausesItAndAfterReconnectingItGoesOnFromTheSamePageWithNothingLost()
    {
        await using var quiet = await WorkspaceScenario.StartAsync(runTriggers: false);
        var first = quiet.NewKlaviyoProfile("first@example.com");
        var (user1, user2) = (quiet.Tenant.AddFriend("First"), quiet.Tenant.AddFriend("Last"));
        foreach (var i in Enumerable.Range(0, 120)) quiet.NewKlaviyoProfile($"filler{i}@example.com");
        var last = quiet.NewKlaviyoProfile("last@example.com"); // on the second page
        var app = quiet.App;
        var workspaces = app.Service<Lumo.Core.Workspaces.WorkspaceStore>();
        foreach (var (user, profile) in new[] { (user1, first), (user2, last) })
        {
            await app.Service<Lumo.Core.Friends.LineFriendStore>().LinkAsync(quiet.WorkspaceId, quiet.AccountId, user.UserId, profile.Id, "admin", DateTimeOffset.UtcNow, user.DisplayName, default);
            profile.Properties["LINE User ID"] = user.UserId; // as the link's property write left it
        }
        var account = (await workspaces.GetAccountIfExistsAsync(quiet.WorkspaceId, quiet.AccountId, default))!;
        await workspaces.UpdateAccountAsync(account with { PulledFields = ["email"] }, default);
        var pull = app.Service<KlaviyoProfilePull>();
        pull.RunBudget = TimeSpan.Zero; // one page per invocation

        var afterFirstPage = await pull.RunAsync(new KlaviyoPullRequest(quiet.WorkspaceId, quiet.AccountId), default);
        quiet.Tenant.Sandbox.Klaviyo.ReplaceKey(quiet.Tenant.Klaviyo, "pk_" + SandboxTenant.Hex(16)); // the merchant revokes the key
        var refused = await pull.RunAsync(new KlaviyoPullRequest(quiet.WorkspaceId, quiet.AccountId), default);
        var paused = (await workspaces.GetWorkspaceIfExistsAsync(quiet.WorkspaceId, default))!.Klaviyo.Status;
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/manage/workspaces/{quiet.WorkspaceId}")
        {
            Content = JsonContent.Create(new { klaviyo = new { privateApiKey = quiet.Tenant.Klaviyo.ApiKey } }),
        };
        Assert.True((await quiet.Admin.SendAsync(request)).IsSuccessStatusCode);
        await app.Service<ConnectionVerifier>().VerifyAsync(new VerifyConnectionsRequest(quiet.WorkspaceId, null), default);
        pull.RunBudget = TimeSpan.FromMinutes(8);
        var resumed = await pull.RunAsync(new KlaviyoPullRequest(quiet.WorkspaceId, quiet.AccountId), default);

        Assert.Equal((SyncRunStatus.Running, 100), (afterFirstPage!.Status, afterFirstPage.Profiles));
        Assert.Equal(Lumo.Core.Workspaces.ConnectionStatus.NeedsReconnect, paused);
        Assert.Equal((afterFirstPage.Id, 100), (refused!.Id, refused.Profiles));
        Assert.Equal((afterFirstPage.Id, SyncRunStatus.Completed, 122), (resumed!.Id, resumed.Status, resumed.Profiles));
        foreach (var (user, email) in new[] { (user1, "first@example.com"), (user2, "last@example.com") })
        {
            var friend = (await quiet.Admin.GetFromJsonAsync<JsonObject>($"{quiet.AccountPath()}/friends/{user.UserId}"))!;
            Assert.Equal(email, friend["klaviyoFields"]!["email"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task APullThrottledForLongerThanTheHttpHandlerWaitsWaitsItOutAndCompletesInTheSameRun()
    {
        await using var quiet = await WorkspaceScenario.StartAsync(runTriggers: false);
        var (user, profile) = (quiet.Tenant.AddFriend("Patient"), quiet.NewKlaviyoProfile("patient@example.com"));
        foreach (var i in Enumerable.Range(0, 120)) quiet.NewKlaviyoProfile($"filler{i}@example.com");
        var app = quiet.App;
        await app.Service<Lumo.Core.Friends.LineFriendStore>().LinkAsync(quiet.WorkspaceId, quiet.AccountId, user.UserId, profile.Id, "admin", DateTimeOffset.UtcNow, user.DisplayName, default);
        profile.Properties["LINE User ID"] = user.UserId;
        var workspaces = app.Service<Lumo.Core.Workspaces.WorkspaceStore>();
        var account = (await workspaces.GetAccountIfExistsAsync(quiet.WorkspaceId, quiet.AccountId, default))!;
        await workspaces.UpdateAccountAsync(account with { PulledFields = ["email"] }, default);
        var pagesBefore = quiet.Tenant.Sandbox.Requests.CountOf(quiet.Tenant.Klaviyo.Id, "GET", "/api/profiles");
        // The first page's request is throttled for 6 s (longer than the HTTP handler waits itself); by then the throttle is over.
        quiet.Tenant.Sandbox.Faults.Add(new FaultRule { Vendor = "klaviyo", Caller = quiet.Tenant.Klaviyo.Id, PathPrefix = "/api/profiles", TooManyRequestsRate = 1,
            RetryAfterSeconds = 6, ActiveUntil = DateTimeOffset.UtcNow.AddSeconds(3) });

        var run = await app.Service<KlaviyoProfilePull>().RunAsync(new KlaviyoPullRequest(quiet.WorkspaceId, quiet.AccountId), default);

        Assert.Equal((SyncRunStatus.Completed, 121, 0), (run!.Status, run.Profiles, run.Failures));
        Assert.Equal(1 + 2, quiet.Tenant.Sandbox.Requests.CountOf(quiet.Tenant.Klaviyo.Id, "GET", "/api/profiles") - pagesBefore); // the throttled one, then the two pages
        var friend = (await quiet.Admin.GetFromJsonAsync<JsonObject>($"{quiet.AccountPath()}/friends/{user.UserId}"))!;
        Assert.Equal("patient@example.com", friend["klaviyoFields"]!["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task AResyncLinksAgainByLineUserIdRefreshesTheChosenFieldsAndRewritesEveryLinkedFriendInBulk()
    {
        var (ann, annProfile) = await _scenario.LinkedFriendAsync("Ann");
        annProfile.Standard["first_name"] = "Ann";
        var (ben, benProfile) = await _scenario.LinkedFriendAsync("Ben");
        await Eventually.MatchesAsync(() => Task.FromResult(benProfile.Properties.ToJsonString()), p => p.Contains(ben.UserId));
        Assert.Equal(HttpStatusCode.OK, (await _scenario.Admin.DeleteAsync($"{_scenario.AccountPath()}/friends/{ben.UserId}/link")).StatusCode); // Ben's profile keeps "LINE User ID"
        var (_, etag) = await GetRulesAsync();
        Assert.Equal(HttpStatusCode.OK, (await PutRulesAsync(new { klaviyoToLumo = new[] { "first_name" } }, etag)).StatusCode);
        var importedBefore = _scenario.Tenant.Klaviyo.ImportJobs.Values.Sum(j => j.Total);

        var started = await _scenario.Admin.PostAsync($"{_scenario.AccountPath()}/resync", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var run = await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>(started.Headers.Location!.ToString()),
            r => r!["status"]!.GetValue<string>() == "completed", because: "the resync finishes");

        Assert.Equal(("resync", 1, 1, 2), (run!["kind"]!.GetValue<string>(), run["counts"]!["relinked"]!.GetValue<int>(), run["counts"]!["friendsUpdated"]!.GetValue<int>(),
            run["profiles"]!.GetValue<int>()));
        var relinked = await FriendAsync(ben.UserId);
        Assert.Equal((benProfile.Id, "resync"), (relinked["klaviyo"]!["profileId"]!.GetValue<string>(), relinked["klaviyo"]!["linkedHow"]!.GetValue<string>()));
        Assert.Equal("Ann", (await FriendAsync(ann.UserId))["klaviyoFields"]!["first_name"]!.GetValue<string>());
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.ImportJobs.Values.Sum(j => j.Total) - importedBefore), n => n == 2,
            because: "both linked friends' properties are written in a bulk import job");
    }

    [Fact]
    public async Task AResyncWhoseImportJobFailsReadsAgainTheFriendsNotYetInAJobAndWritesEachLinkedFriendOnceEvenOneWhoseFieldFails()
    {
        await using var quiet = await WorkspaceScenario.StartAsync(runTriggers: false);
        var first = quiet.NewKlaviyoProfile("first@example.com");
        foreach (var i in Enumerable.Range(0, 120)) quiet.NewKlaviyoProfile($"filler{i}@example.com");
        var last = quiet.NewKlaviyoProfile("last@example.com"); // on the second page
        foreach (var (user, profile) in new[] { (quiet.Tenant.AddFriend("First"), first), (quiet.Tenant.AddFriend("Last"), last) })
        {
            await quiet.App.Service<Lumo.Core.Friends.LineFriendStore>().LinkAsync(quiet.WorkspaceId, quiet.AccountId, user.UserId, profile.Id, "admin", DateTimeOffset.UtcNow, user.DisplayName, default);
            profile.Properties["LINE User ID"] = user.UserId; // as the link's property write left it
        }
        first.Standard["first_name"] = "First";
        last.Properties["Shape"] = new JsonObject { ["sides"] = 3 }; // a value a friend field cannot hold: that profile's failure
        var workspaces = quiet.App.Service<Lumo.Core.Workspaces.WorkspaceStore>();
        var account = (await workspaces.GetAccountIfExistsAsync(quiet.WorkspaceId, quiet.AccountId, default))!;
        account = await workspaces.UpdateAccountAsync(account with { PulledFields = ["first_name", "properties.Shape"] }, default);
        var pull = quiet.App.Service<KlaviyoProfilePull>();
        var (queued, _) = await pull.StartResyncAsync(account, default);
        var request = new KlaviyoPullRequest(quiet.WorkspaceId, quiet.AccountId, queued.Id);
        // Klaviyo refuses the import job, the client's retries included: the invocation fails after reading both pages.
        quiet.Tenant.Sandbox.Faults.Add(new FaultRule { Vendor = "klaviyo", Caller = quiet.Tenant.Klaviyo.Id, PathPrefix = "/api/profile-bulk-import-jobs", FailFirstRequests = 4 });

        await Assert.ThrowsAnyAsync<Exception>(() => pull.RunAsync(request, default));
        var afterFailure = await quiet.App.Service<SyncRunHistory>().GetIfExistsAsync(quiet.WorkspaceId, quiet.AccountId, queued.Id, default);
        var resumed = await pull.RunAsync(request, default); // the queue's next attempt

        Assert.Equal((false, 0), (afterFailure!.IsFinished, afterFailure.Profiles)); // its place: before the friends not yet in a job
        // First's field was written before the job failed: read again, it is unchanged.
        Assert.Equal((SyncRunStatus.Completed, 122, 1, 1, 1), (resumed!.Status, resumed.Profiles, resumed.Counts["unchanged"], resumed.Failures, resumed.Counts["importJobs"]));
        Assert.Equal(2, quiet.Tenant.Klaviyo.ImportJobs.Values.Sum(j => j.Total)); // every job Klaviyo accepted: each linked friend once, the failed profile's too
    }

    [Fact]
    public async Task ACancelledResyncStopsBeforeItsNextPageAndKeepsWhatItDid()
    {
        await using var quiet = await WorkspaceScenario.StartAsync(runTriggers: false);
        foreach (var i in Enumerable.Range(0, 150)) quiet.NewKlaviyoProfile($"many{i}@example.com");
        var account = (await quiet.App.Service<Lumo.Core.Workspaces.WorkspaceStore>().GetAccountIfExistsAsync(quiet.WorkspaceId, quiet.AccountId, default))!;
        var pull = quiet.App.Service<KlaviyoProfilePull>();
        pull.RunBudget = TimeSpan.Zero; // one page per invocation
        var (queued, _) = await pull.StartResyncAsync(account, default);
        var request = new KlaviyoPullRequest(quiet.WorkspaceId, quiet.AccountId, queued.Id);

        var firstPage = await pull.RunAsync(request, default);
        var second = await quiet.Admin.PostAsync($"{quiet.AccountPath()}/resync", null);
        var cancel = await quiet.Admin.DeleteAsync($"{quiet.AccountPath()}/sync-runs/{queued.Id}");
        var stopped = await pull.RunAsync(request, default);
        var cancelAgain = await quiet.Admin.DeleteAsync($"{quiet.AccountPath()}/sync-runs/{queued.Id}");

        Assert.Equal((SyncRunStatus.Running, 100), (firstPage!.Status, firstPage.Profiles));
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode); // one resync at a time
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal((SyncRunStatus.Cancelled, 100), (stopped!.Status, stopped.Profiles));
        Assert.Equal(HttpStatusCode.Conflict, cancelAgain.StatusCode);
    }
}
