using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.SyncData;
using Lumo.Core.Workspaces;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Lumo.Tests.Infrastructure;
using static Lumo.Tests.Infrastructure.LineWebhookSender;

namespace Lumo.Tests.SyncData;

/// <summary>
/// "Update LINE Consent Status": follow status and consent re-read from LINE (follower list, or the profile API where
/// the list is not available), changed linked profiles written to Klaviyo in bulk with all required properties,
/// followers Lumo never saw stored as friends, newer webhooks never overwritten, a crash before the Klaviyo write
/// losing nothing, and each run in the dashboard's history.
/// </summary>
public sealed class ConsentRefreshTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync();

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private LineChannel Channel => _scenario.Tenant.Channel;
    private KlaviyoAccountState Klaviyo => _scenario.Tenant.Klaviyo;

    // Four linked friends as Lumo knows them, while LINE knows better: Still still follows; Gone blocked the account and
    // Back followed again, both without a webhook reaching Lumo; Blocked blocked it and Lumo knows. And New followed
    // before Lumo was connected.
    private async Task<(SimulatedProfile Still, SimulatedProfile Gone, SimulatedProfile Back, SimulatedProfile Blocked, LineUser New)> FriendsOutOfStepAsync()
    {
        var (_, still) = await _scenario.LinkedFriendAsync("Still");
        var (goneUser, gone) = await _scenario.LinkedFriendAsync("Gone");
        var (backUser, back) = await _scenario.LinkedFriendAsync("Back");
        var (blockedUser, blocked) = await _scenario.LinkedFriendAsync("Blocked");
        foreach (var user in new[] { backUser, blockedUser })
            await _scenario.Client.PostWebhookAsync(_scenario.WorkspaceId, _scenario.AccountId, Channel, Unfollow(user.UserId, DateTimeOffset.UtcNow));
        await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{backUser.UserId}"),
            f => f!["consent"]!.GetValue<string>() == "withdrawn", because: "Lumo learns of Back's block");
        await Eventually.MatchesAsync(() => Task.FromResult(blocked.Properties.ToJsonString()), p => p.Contains("\"LINE Consent\":\"withdrawn\""));
        Channel.Friends[goneUser.UserId] = new Friendship(goneUser.UserId, Blocked: true);
        Channel.Friends[backUser.UserId] = new Friendship(backUser.UserId, Blocked: false);
        Channel.Friends[blockedUser.UserId] = new Friendship(blockedUser.UserId, Blocked: true);
        var newcomer = _scenario.Tenant.AddFriend("New");
        return (still, gone, back, blocked, newcomer);
    }

    private async Task<JsonObject> RefreshAsync()
    {
        var started = await _scenario.Admin.PostAsync($"{_scenario.AccountPath()}/consent-refresh", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var location = started.Headers.Location!.ToString();
        return (await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>(location),
            r => r!["status"]!.GetValue<string>() is "completed" or "failed", because: "the refresh finishes"))!;
    }

    private int ProfilesImportedInBulk() => Klaviyo.ImportJobs.Values.Sum(j => j.Total);

    [Fact]
    public async Task BringsFollowStatusAndConsentInLineWithLineAndWritesOnlyTheChangedProfilesInBulk()
    {
        var (still, gone, back, blocked, newcomer) = await FriendsOutOfStepAsync();
        var stillBefore = still.Properties.ToJsonString();
        // Desk uses LINE on PC only: LINE's follower list leaves them out, the profile API knows they still follow.
        var (deskUser, desk) = await _scenario.LinkedFriendAsync("Desk");
        _scenario.Tenant.Sandbox.Line.Users[deskUser.UserId] = deskUser with { DesktopOnly = true };
        var deskBefore = desk.Properties.ToJsonString();
        var importedBefore = ProfilesImportedInBulk();

        var run = await RefreshAsync();

        Assert.Equal("completed", run["status"]!.GetValue<string>());
        var counts = run["counts"]!.AsObject();
        Assert.Equal((3, 2, 1, 1, 1, 1, 2), (counts["followersListed"]!.GetValue<int>(), counts["stillFriends"]!.GetValue<int>(), counts["nowBlocked"]!.GetValue<int>(),
            counts["nowFriends"]!.GetValue<int>(), counts["stillBlocked"]!.GetValue<int>(), counts["newFriends"]!.GetValue<int>(), counts["klaviyoProfilesWritten"]!.GetValue<int>()));
        Assert.Equal((6, 0), (run["profiles"]!.GetValue<int>(), run["failures"]!.GetValue<int>()));
        await Eventually.MatchesAsync(() => Task.FromResult(ProfilesImportedInBulk() - importedBefore), n => n == 2, because: "Gone and Back are written in a bulk import job");
        foreach (var (profile, status, consent) in new[] { (gone, "blocked", "withdrawn"), (back, "friend", "granted") })
        {
            await Eventually.MatchesAsync(() => Task.FromResult(profile.Properties["LINE Consent"]?.GetValue<string>()), c => c == consent);
            Assert.Equal(status, profile.Properties["LINE Follow Status"]!.GetValue<string>());
            Assert.Equal($"LINE {Channel.BasicId} (consent refresh)", profile.Properties["LINE Consent Source"]!.GetValue<string>());
            Assert.NotNull(profile.Properties["LINE Consent Updated At"]);
            Assert.NotNull(profile.Properties["LINE User ID"]);
        }
        Assert.Equal(stillBefore, still.Properties.ToJsonString()); // nothing changed, nothing written
        Assert.Equal(deskBefore, desk.Properties.ToJsonString());
        Assert.Equal("withdrawn", blocked.Properties["LINE Consent"]!.GetValue<string>());
        var stored = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{newcomer.UserId}"))!;
        Assert.Equal(("friend", "granted", false), (stored["followStatus"]!.GetValue<string>(), stored["consent"]!.GetValue<string>(), stored["klaviyo"]!["linked"]!.GetValue<bool>()));
        // The refresh never changes the follow on LINE itself.
        Assert.True(Channel.Friends[newcomer.UserId] is { Blocked: false } && Channel.Friends.Values.Count(f => f.Blocked) == 2);

        var dashboard = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{_scenario.WorkspaceId}/dashboard"))!;
        var entry = dashboard["history"]!.AsArray().First(h => h!["kind"]!.GetValue<string>() == "consent-refresh")!;
        Assert.Equal(("completed", 6, _scenario.AccountId), (entry["status"]!.GetValue<string>(), entry["profiles"]!.GetValue<int>(), entry["accountId"]!.GetValue<string>()));
        Assert.Contains("nowBlocked 1", entry["detail"]!.GetValue<string>());

        var again = await RefreshAsync();
        Assert.Equal((4, 2, 0), (again["counts"]!["stillFriends"]!.GetValue<int>(), again["counts"]!["stillBlocked"]!.GetValue<int>(), ProfilesImportedInBulk() - importedBefore - 2));
    }

    [Fact]
    public async Task AnAccountThatMayNotListItsFollowersIsCheckedFriendByFriendThroughTheProfileApi()
    {
        Channel.FollowerIdsAvailable = false; // unverified accounts get 403 from followers/ids
        var (_, gone, back, _, newcomer) = await FriendsOutOfStepAsync();

        var run = await RefreshAsync();

        var counts = run["counts"]!.AsObject();
        Assert.Equal((1, 1, 1, 1, 1), (counts["followerListUnavailable"]!.GetValue<int>(), counts["stillFriends"]!.GetValue<int>(), counts["nowBlocked"]!.GetValue<int>(),
            counts["nowFriends"]!.GetValue<int>(), counts["stillBlocked"]!.GetValue<int>()));
        Assert.False(counts.ContainsKey("newFriends")); // the profile API can only check friends Lumo knows
        await Eventually.MatchesAsync(() => Task.FromResult(gone.Properties["LINE Consent"]?.GetValue<string>()), c => c == "withdrawn");
        await Eventually.MatchesAsync(() => Task.FromResult(back.Properties["LINE Consent"]?.GetValue<string>()), c => c == "granted");
        var unknown = await _scenario.Admin.GetAsync($"{_scenario.AccountPath()}/friends/{newcomer.UserId}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task AFollowOrBlockWebhookNewerThanTheRunIsNotOverwritten()
    {
        // The run started, and LINE's answer was taken, while Newer had not followed yet; the follow webhook since is newer.
        var startedAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        var (user, profile) = await _scenario.LinkedFriendAsync("Newer");
        var account = (await _scenario.App.Service<WorkspaceStore>().GetAccountIfExistsAsync(_scenario.WorkspaceId, _scenario.AccountId, default))!;
        var run = new SyncRun { Id = SyncRunHistory.NewRunId(startedAt), WorkspaceId = account.WorkspaceId, AccountId = account.Id, Kind = SyncKinds.ConsentRefresh, StartedAt = startedAt };
        await _scenario.App.Service<SyncRunHistory>().SaveAsync(run, default);
        Channel.Friends[user.UserId] = new Friendship(user.UserId, Blocked: true);

        var done = await _scenario.App.Service<ConsentRefresh>().RunAsync(new ConsentRefreshRequest(account.WorkspaceId, account.Id, run.Id), default);

        Assert.Equal((SyncRunStatus.Completed, 1), (done!.Status, done.Counts["newerKept"]));
        var friend = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{user.UserId}"))!;
        Assert.Equal("granted", friend["consent"]!.GetValue<string>());
        Assert.Equal("granted", profile.Properties["LINE Consent"]!.GetValue<string>());
    }

    [Fact]
    public async Task ARunThatFailsBeforeItsKlaviyoWriteWritesTheFriendsItChangedWhenItGoesOn()
    {
        var (_, gone, back, _, _) = await FriendsOutOfStepAsync();
        var account = (await _scenario.App.Service<WorkspaceStore>().GetAccountIfExistsAsync(_scenario.WorkspaceId, _scenario.AccountId, default))!;
        var importedBefore = ProfilesImportedInBulk();
        var outage = new FaultRule { Vendor = "klaviyo", Caller = Klaviyo.Id, PathPrefix = "/api/profile-bulk-import-jobs", ServiceUnavailableRate = 1 };
        _scenario.Tenant.Sandbox.Faults.Add(outage);
        var history = _scenario.App.Service<SyncRunHistory>();
        var run = new SyncRun { Id = SyncRunHistory.NewRunId(DateTimeOffset.UtcNow), WorkspaceId = account.WorkspaceId, AccountId = account.Id, Kind = SyncKinds.ConsentRefresh, StartedAt = DateTimeOffset.UtcNow };
        await history.SaveAsync(run, default);
        var request = new ConsentRefreshRequest(account.WorkspaceId, account.Id, run.Id);

        // The friends' rows change, then Klaviyo fails every attempt: the invocation fails (the queue would try again).
        await Assert.ThrowsAnyAsync<Exception>(() => _scenario.App.Service<ConsentRefresh>().RunAsync(request, default));
        var goneFriend = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{gone.Properties["LINE User ID"]!.GetValue<string>()}"))!;
        Assert.Equal("withdrawn", goneFriend["consent"]!.GetValue<string>());
        Assert.Equal(importedBefore, ProfilesImportedInBulk());
        _scenario.Tenant.Sandbox.Faults.Remove(r => r == outage);
        var resumed = await _scenario.App.Service<ConsentRefresh>().RunAsync(request, default);

        // Gone, Back and New (not linked, so not written) were changed before the failure.
        Assert.Equal((SyncRunStatus.Completed, 3, 2), (resumed!.Status, resumed.Counts["changedEarlier"], resumed.Counts["klaviyoProfilesWritten"]));
        await Eventually.MatchesAsync(() => Task.FromResult(ProfilesImportedInBulk() - importedBefore), n => n == 2, because: "both changes reach Klaviyo once");
        await Eventually.MatchesAsync(() => Task.FromResult(gone.Properties["LINE Consent"]?.GetValue<string>()), c => c == "withdrawn");
        await Eventually.MatchesAsync(() => Task.FromResult(back.Properties["LINE Consent"]?.GetValue<string>()), c => c == "granted");
    }

    [Fact]
    public async Task ASecondStartWhileARunIsUnderWayAnswersConflictWithThatRun()
    {
        var account = (await _scenario.App.Service<WorkspaceStore>().GetAccountIfExistsAsync(_scenario.WorkspaceId, _scenario.AccountId, default))!;
        var running = new SyncRun
        {
            Id = SyncRunHistory.NewRunId(DateTimeOffset.UtcNow), WorkspaceId = account.WorkspaceId, AccountId = account.Id, Kind = SyncKinds.ConsentRefresh,
            StartedAt = DateTimeOffset.UtcNow, Status = SyncRunStatus.Running,
        };
        await _scenario.App.Service<SyncRunHistory>().SaveAsync(running, default);

        var second = await _scenario.Admin.PostAsync($"{_scenario.AccountPath()}/consent-refresh", null);
        var unknownAccount = await _scenario.Admin.PostAsync($"/api/manage/workspaces/{_scenario.WorkspaceId}/accounts/{SandboxTenant.Hex(8)}/consent-refresh", null);

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal(running.Id, (await second.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, unknownAccount.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _scenario.Admin.GetAsync($"{_scenario.AccountPath()}/sync-runs/not-a-run")).StatusCode);
        Assert.Single(await _scenario.App.Service<SyncRunHistory>().ListAsync(account.WorkspaceId, account.Id, 10, default));
    }

    [Fact]
    public async Task ARunHandedOverAfterEveryPageAndChunkCountsEachFriendOnce()
    {
        // Without triggers, so that every invocation is this test's, each with no time budget: it hands over after a
        // page of LINE's list, or after the chunks it has at work.
        await using var quiet = await WorkspaceScenario.StartAsync(runTriggers: false);
        var channel = quiet.Tenant.Channel;
        // 2,600 stored friends: three pages of LINE's list and three chunks, two of them at work at once. A hundredth
        // of them blocked the account on LINE unseen.
        var friends = Enumerable.Range(0, 2_600).Select(i => new Lumo.Core.Friends.LineFriend
        {
            WorkspaceId = quiet.WorkspaceId, AccountId = quiet.AccountId, UserId = "U" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()),
            FollowStatus = Lumo.Core.Friends.FollowStatus.Friend, Consent = Lumo.Core.Friends.Consent.Granted, ConsentUpdatedAt = DateTimeOffset.UtcNow.AddDays(-1),
        }).ToList();
        var store = quiet.App.Service<Lumo.Core.Friends.LineFriendStore>();
        await Parallel.ForEachAsync(friends, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (friend, ct) => await store.SaveAsync(friend, ct));
        foreach (var (friend, i) in friends.Select((f, i) => (f, i)))
            channel.Friends[friend.UserId] = new Friendship(friend.UserId, Blocked: i % 100 == 0);
        var account = (await quiet.App.Service<WorkspaceStore>().GetAccountIfExistsAsync(quiet.WorkspaceId, quiet.AccountId, default))!;
        var refresh = quiet.App.Service<ConsentRefresh>();
        refresh.RunBudget = TimeSpan.Zero;

        var (started, _) = await refresh.StartAsync(account, default);
        var request = new ConsentRefreshRequest(account.WorkspaceId, account.Id, started.Id);
        var invocations = 1;
        var run = await refresh.RunAsync(request, default);
        for (; !run!.IsFinished && invocations < 50; invocations++) run = await refresh.RunAsync(request, default);

        // Counts and cursor move together: no friend is counted twice across the hand-overs, none is missed.
        Assert.True(invocations >= 5, $"{invocations} invocations: three list pages, then the chunks"); // the hand-overs did happen
        Assert.Equal((SyncRunStatus.Completed, 2_600, 0), (run.Status, run.Profiles, run.Failures));
        Assert.Equal(new Dictionary<string, int> { ["followersListed"] = 2_574, ["stillFriends"] = 2_574, ["nowBlocked"] = 26 }, run.Counts);
        var withdrawn = 0;
        await foreach (var friend in store.ListAsync(quiet.WorkspaceId, quiet.AccountId, null, default))
            if (friend.Consent == Lumo.Core.Friends.Consent.Withdrawn) withdrawn++;
        Assert.Equal(26, withdrawn);
    }
}
