using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Lumo.Core.Broadcasts;
using Lumo.Core.Friends;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Line;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Broadcasts;

/// <summary>
/// Message Broadcasts: to a segment by multicast or to every friend by LINE's broadcast API, exactly once per
/// recipient (counted on what the sandbox received), with Klaviyo events for linked recipients; scheduling and
/// cancelling; the monthly quota refusing a broadcast up front or pausing it mid-way; and a process killed
/// mid-broadcast resumed without a duplicate.
/// </summary>
public sealed class BroadcastTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private LineChannel Channel => _scenario.Tenant.Channel;

    // The tests call the schedule timer themselves; the minute timer firing on its own would race them.
    private static readonly Dictionary<string, string?> NoScheduleTimer = new() { ["AzureWebJobs:StartDueBroadcasts:Disabled"] = "true" };

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync(settings: NoScheduleTimer);

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private string BroadcastsPath => $"{_scenario.AccountPath()}/broadcasts";

    private async Task<string> SegmentAsync(object conditions)
    {
        var response = await _scenario.Admin.PostAsJsonAsync($"{_scenario.AccountPath()}/segments", new { name = "Segment " + SandboxTenant.Hex(2), conditions });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private async Task<string> CreateAsync(object body)
    {
        var response = await _scenario.Admin.PostAsJsonAsync(BroadcastsPath, body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private Task<JsonObject> StatusAsync(string id, string status, TimeSpan? timeout = null) =>
        Eventually.MatchesAsync(async () => (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{BroadcastsPath}/{id}"))!,
            b => b["status"]!.GetValue<string>() == status, timeout, because: $"the broadcast becomes {status}");

    // Friends Lumo knows (as the follow webhooks would have stored them) and LINE knows, in bulk.
    private async Task<List<LineUser>> FriendsAsync(int count, string name)
    {
        var store = _scenario.App.Service<LineFriendStore>();
        var users = Enumerable.Range(0, count).Select(i => _scenario.Tenant.AddFriend($"{name} {i}")).ToList();
        await Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (u, ct) =>
            await store.SaveAsync(new LineFriend { WorkspaceId = _scenario.WorkspaceId, AccountId = _scenario.AccountId, UserId = u.UserId, FollowStatus = FollowStatus.Friend }, ct));
        return users;
    }

    private async Task BlockAsync(LineUser user)
    {
        Channel.Friends[user.UserId] = new Friendship(user.UserId, Blocked: true);
        await _scenario.Client.PostWebhookAsync(_scenario.WorkspaceId, _scenario.AccountId, Channel, LineWebhookSender.Unfollow(user.UserId, DateTimeOffset.UtcNow));
        await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{user.UserId}"),
            f => f!.ToJsonString().Contains("\"blocked\""), because: "the block is applied");
    }

    private long Multicasts => _scenario.Tenant.Sandbox.Requests.CountOf(Channel.ChannelId, "POST", "/v2/bot/message/multicast");

    [Fact]
    public async Task ASegmentBroadcastReachesEachMemberOnceAndRecordsTheirKlaviyoEvents()
    {
        var vips = new List<(LineUser User, SimulatedProfile Profile)>();
        for (var i = 0; i < 3; i++) vips.Add(await _scenario.LinkedFriendAsync($"Vip{i}"));
        var (regular, regularProfile) = await _scenario.LinkedFriendAsync("Regular");
        var unlinked = _scenario.Tenant.AddFriend("Unlinked");
        await _scenario.FollowAsync(unlinked);
        var (blockedVip, blockedProfile) = await _scenario.LinkedFriendAsync("BlockedVip");
        await BlockAsync(blockedVip);
        _scenario.Tenant.Klaviyo.Lists["VIPLST"] = new ProfileGroup("VIPLST", "VIP", [.. vips.Select(v => v.Profile.Id), blockedProfile.Id, "01KNOTAFRIEND"]);
        var segment = await SegmentAsync(new { all = new object[] { new { linked = true }, new { inList = "VIPLST" } } });

        var id = await CreateAsync(new { name = "Winter sale", text = "Winter sale starts today", segmentId = segment });
        var done = await StatusAsync(id, "completed");

        Assert.Equal((3, 3, 1), (done["progress"]!["targeted"]!.GetValue<int>(), done["progress"]!["sent"]!.GetValue<int>(), done["progress"]!["skippedBlocked"]!.GetValue<int>()));
        foreach (var (user, _) in vips) Assert.Single(Channel.PushesTo(user.UserId));
        Assert.Empty(Channel.PushesTo(regular.UserId));
        Assert.Empty(Channel.PushesTo(unlinked.UserId));
        Assert.Empty(Channel.PushesTo(blockedVip.UserId));
        Assert.Equal(1, Multicasts);
        Assert.Equal(0, Interlocked.Read(ref Channel.RetryKeyRepeats));

        var sent = await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.SentLineMessage)), e => e.Count >= 3);
        Assert.Equal(vips.Select(v => v.Profile.Id).Order(), sent.Select(e => e.ProfileId).Order());
        Assert.All(sent, e => Assert.Equal(("broadcast", "Winter sale"), (e.Properties["Source"]!.GetValue<string>(), e.Properties["Broadcast"]!.GetValue<string>())));
        // A later marker: a Flow send's events arrive after the broadcast's, so nothing more of the broadcast's is coming.
        await MarkerAsync(regular, regularProfile);
        Assert.Equal(3, _scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.SentLineMessage).Count(e => e.Properties["Source"]!.GetValue<string>() == "broadcast"));
        Assert.Equal(0, Interlocked.Read(ref _scenario.Tenant.Klaviyo.DuplicateEventsIgnored));
    }

    private async Task MarkerAsync(LineUser user, SimulatedProfile profile)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{_scenario.WorkspaceId}/send")
        {
            Content = JsonContent.Create(new { to = user.UserId, account = _scenario.AccountId, text = "Marker", idempotencyKey = "marker-" + SandboxTenant.Hex(4) }),
        };
        request.Headers.Add("X-Lumo-Flow-Key", await _scenario.FlowKeyAsync());
        Assert.Equal(HttpStatusCode.Accepted, (await _scenario.Client.SendAsync(request)).StatusCode);
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.SentLineMessage)), e => e.Any(x => x.ProfileId == profile.Id));
    }

    [Fact]
    public async Task ATrackedBroadcastGivesEachRecipientTheirOwnLinksAndRecordsTheirClicks()
    {
        var (aiko, aikoProfile) = await _scenario.LinkedFriendAsync("Aiko");
        var (ben, benProfile) = await _scenario.LinkedFriendAsync("Ben");
        var segment = await SegmentAsync(new { linked = true });

        var id = await CreateAsync(new { name = "Winter sale", text = "Winter sale: https://shop.example.com/winter", segmentId = segment });
        var done = await StatusAsync(id, "completed");

        Assert.Equal(2, done["progress"]!["sent"]!.GetValue<int>());
        Assert.Equal(0, Multicasts); // a push each: a multicast cannot carry per-recipient links
        var links = new[] { aiko, ben }.Select(u => Assert.Single(Channel.PushesTo(u.UserId)).Messages[0]!["text"]!.GetValue<string>().Split(' ').Last()).ToList();
        Assert.All(links, link => Assert.Contains("/api/t/", link));
        Assert.NotEqual(links[0], links[1]);

        var browser = _scenario.App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var click = new HttpRequestMessage(HttpMethod.Get, new Uri(links[0]).PathAndQuery);
        click.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/15.12.1");
        var redirect = await browser.SendAsync(click);

        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Contains("utm_medium=broadcast", redirect.Headers.Location!.ToString());
        Assert.Contains("utm_campaign=Winter", redirect.Headers.Location!.ToString());
        var clicked = await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.ClickedLineMessage)), e => e.Count >= 1);
        Assert.Equal((aikoProfile.Id, "broadcast"), (Assert.Single(clicked).ProfileId, clicked[0].Properties["Source"]!.GetValue<string>()));
        var sent = await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.SentLineMessage)), e => e.Count >= 2);
        Assert.Equal(new[] { aikoProfile.Id, benProfile.Id }.Order(), sent.Select(e => e.ProfileId).Order());
    }

    [Fact]
    public async Task AnEveryFriendBroadcastIsOneLineBroadcastRequest()
    {
        var (linked, profile) = await _scenario.LinkedFriendAsync("Linked");
        var unlinked = _scenario.Tenant.AddFriend("Unlinked"); // a friend from before the integration: LINE still reaches them

        var id = await CreateAsync(new { name = "New year", text = "Happy new year" });
        var done = await StatusAsync(id, "completed");

        Assert.Equal("all-friends", done["audience"]!.GetValue<string>());
        Assert.Equal(1, _scenario.Tenant.Sandbox.Requests.CountOf(Channel.ChannelId, "POST", "/v2/bot/message/broadcast"));
        Assert.Single(Channel.PushesTo(linked.UserId));
        Assert.Single(Channel.PushesTo(unlinked.UserId));
        var sent = await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.SentLineMessage)), e => e.Count >= 1);
        Assert.Equal(profile.Id, Assert.Single(sent).ProfileId);
    }

    [Fact]
    public async Task AScheduledBroadcastFiresWhenDueAndACancelledOneNeverDoes()
    {
        var (user, _) = await _scenario.LinkedFriendAsync("Haru");
        var segment = await SegmentAsync(new { linked = true });
        Assert.Equal(HttpStatusCode.OK, (await _scenario.Admin.PatchAsJsonAsync($"/api/manage/workspaces/{_scenario.WorkspaceId}", new { defaultRegion = "JP" })).StatusCode);
        var at = DateTimeOffset.UtcNow.AddSeconds(3);
        var kept = await CreateAsync(new { name = "Kept", text = "Kept", segmentId = segment, scheduledAt = at });
        var cancelled = await CreateAsync(new { name = "Cancelled", text = "Cancelled", segmentId = segment, scheduledAt = at });
        var scheduled = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{BroadcastsPath}/{kept}"))!;
        Assert.Equal("scheduled", scheduled["status"]!.GetValue<string>());
        // Stored in UTC, shown in the merchant's time zone too.
        Assert.Equal(TimeSpan.Zero, scheduled["scheduledAt"]!.GetValue<DateTimeOffset>().Offset);
        Assert.Equal(("Asia/Tokyo", TimeSpan.FromHours(9)), (scheduled["timeZone"]!.GetValue<string>(), scheduled["scheduledAtLocal"]!.GetValue<DateTimeOffset>().Offset));
        Assert.Equal(scheduled["scheduledAt"]!.GetValue<DateTimeOffset>(), scheduled["scheduledAtLocal"]!.GetValue<DateTimeOffset>());
        Assert.Equal(HttpStatusCode.OK, (await _scenario.Admin.PostAsync($"{BroadcastsPath}/{cancelled}/cancel", null)).StatusCode);

        Assert.Contains("Queued 0", await TimerAsync()); // not yet due
        await Task.Delay(at - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200));
        Assert.Contains("Queued 1", await TimerAsync()); // the kept one only

        await StatusAsync(kept, "completed");
        var pushes = Channel.PushesTo(user.UserId).Select(p => p.Messages[0]!["text"]!.GetValue<string>()).ToList();
        Assert.Equal(["Kept"], pushes);
        Assert.Equal("cancelled", (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{BroadcastsPath}/{cancelled}"))!["status"]!.GetValue<string>());
        // Cancelling a finished broadcast is refused, naming what stands in the way.
        var late = await _scenario.Admin.PostAsync($"{BroadcastsPath}/{kept}/cancel", null);
        Assert.Equal(HttpStatusCode.BadRequest, late.StatusCode);
        Assert.Contains("\"status\"", await late.Content.ReadAsStringAsync());
    }

    private async Task<string> TimerAsync(HttpClient? client = null)
    {
        const string payload = """{"Data":{"timer":{"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"StartDueBroadcasts","UtcNow":"2026-11-23T00:00:00Z"}}}""";
        var response = await (client ?? _scenario.Client).PostAsync("/StartDueBroadcasts", new StringContent(payload, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task ABroadcastTheQuotaCannotCoverIsRefusedUpFrontUnlessAPartialSendIsAllowed()
    {
        var users = await FriendsAsync(3, "Quota");
        var segment = await SegmentAsync(new { followStatus = "friend" });
        Channel.MonthlyQuota = Interlocked.Read(ref Channel.MessagesThisMonth) + 2;

        var refused = await StatusAsync(await CreateAsync(new { name = "Too big", text = "Too big", segmentId = segment }), "refused");

        Assert.Contains("needs 3 messages", refused["reason"]!.GetValue<string>());
        Assert.Contains("2 left this month", refused["reason"]!.GetValue<string>());
        Assert.All(users, u => Assert.Empty(Channel.PushesTo(u.UserId)));
        Assert.Equal(0, Multicasts);

        // Allowed to go partially, it starts; its one chunk does not fit either, so it pauses before sending anything.
        var partial = await StatusAsync(await CreateAsync(new { name = "Partial", text = "Partial", segmentId = segment, allowPartialSend = true }), "paused");
        Assert.Contains("2 messages left", partial["reason"]!.GetValue<string>());
        Assert.Equal(0, Multicasts);
    }

    [Fact]
    public async Task TheQuotaRunningOutMidBroadcastPausesItCleanlyAndAResumeSendsOnlyTheRest()
    {
        var users = await FriendsAsync(1_100, "Fan"); // three chunks: 500, 500, 100
        var segment = await SegmentAsync(new { followStatus = "friend" });
        // Covers the first chunk and the small one, not the second big one; the check before each chunk passes for
        // all three (700 left), so it is LINE's quota 429 that stops the broadcast.
        Channel.MonthlyQuota = Interlocked.Read(ref Channel.MessagesThisMonth) + 700;

        var id = await CreateAsync(new { name = "Big sale", text = "Big sale", segmentId = segment, allowPartialSend = true });
        var paused = await StatusAsync(id, "paused");

        Assert.Contains("quota", paused["reason"]!.GetValue<string>());
        var sentBefore = users.Count(u => Channel.PushesTo(u.UserId).Any());
        Assert.InRange(sentBefore, 500, 700);
        Assert.InRange(Multicasts, 2, 3); // one request per chunk at most: no retry storm
        var remaining = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{BroadcastsPath}/{id}/remaining"))!["userIds"]!.AsArray().Select(u => u!.GetValue<string>()).ToList();
        Assert.Equal(1_100 - sentBefore, remaining.Count);
        Assert.All(remaining, u => Assert.Empty(Channel.PushesTo(u)));

        Channel.MonthlyQuota = long.MaxValue / 2; // the plan changed
        Assert.Equal(HttpStatusCode.OK, (await _scenario.Admin.PostAsync($"{BroadcastsPath}/{id}/resume", null)).StatusCode);
        var done = await StatusAsync(id, "completed");

        Assert.Equal(1_100, done["progress"]!["sent"]!.GetValue<int>());
        Assert.All(users, u => Assert.Single(Channel.PushesTo(u.UserId)));
    }

    [Fact]
    public async Task AProcessKilledMidBroadcastIsResumedByTheNextWithoutADuplicate()
    {
        // The first instance runs no triggers: it prepares the broadcast and sends one chunk's multicast, then "dies"
        // before marking the chunk sent; its queue messages are left for the next instance.
        await RestartWithoutTriggersAsync();
        var users = await FriendsAsync(1_100, "Fan");
        var segment = await SegmentAsync(new { followStatus = "friend" });
        var id = await CreateAsync(new { name = "Crash sale", text = "Crash sale", segmentId = segment });
        var runner = _scenario.App.Service<BroadcastRunner>();
        var broadcast = await runner.RunAsync(new BroadcastRequest(_scenario.WorkspaceId, _scenario.AccountId, id), default);
        Assert.Equal(BroadcastStatus.Sending, broadcast!.Status);
        var store = _scenario.App.Service<BroadcastStore>();
        var chunk = (await store.GetChunkIfExistsAsync(broadcast, 1, default))!;
        // Its attempt still holds the chunk for a few seconds when the next instance first looks at it.
        await store.TryUpdateChunkAsync(broadcast, chunk with { FirstAttemptAt = DateTimeOffset.UtcNow, AttemptUntil = DateTimeOffset.UtcNow.AddSeconds(3) }, default);
        await _scenario.App.Service<LineMessagingClient>().MulticastAsync(new LineAccountRef(_scenario.WorkspaceId, _scenario.AccountId), chunk.UserIds,
            broadcast.Messages, broadcast.RetryKeyOf(1), default);

        // The next instance drains the queue.
        await using var next = await LumoApp.StartAsync(runTriggers: true, sharingStorageWith: _scenario.App.Prefix);
        var done = await StatusAsync(id, "completed");

        Assert.Equal(1_100, done["progress"]!["sent"]!.GetValue<int>());
        Assert.All(users, u => Assert.Single(Channel.PushesTo(u.UserId)));
        Assert.Equal(1, Interlocked.Read(ref Channel.RetryKeyRepeats)); // the killed chunk, recognised by its key
        Assert.Equal(4, Multicasts); // three chunks, one of them twice (the second answered 409)
    }

    [Fact]
    public async Task ABroadcastWhoseChunkMessagesWereLostIsDispatchedAgainByTheTimer()
    {
        await RestartWithoutTriggersAsync();
        var users = await FriendsAsync(3, "Lost");
        var segment = await SegmentAsync(new { followStatus = "friend" });
        var id = await CreateAsync(new { name = "Lost sale", text = "Lost sale", segmentId = segment });
        var store = _scenario.App.Service<BroadcastStore>();
        await _scenario.App.Service<BroadcastRunner>().RunAsync(new BroadcastRequest(_scenario.WorkspaceId, _scenario.AccountId, id), default);
        // Its chunk messages are gone (parked, say) and nothing has happened for a while.
        var queues = _scenario.App.Service<Lumo.Core.Storage.LumoQueues>();
        await (await queues.GetAsync(Lumo.Core.Storage.QueueNames.BroadcastChunks)).ClearMessagesAsync();
        await (await queues.GetAsync(Lumo.Core.Storage.QueueNames.Broadcasts)).ClearMessagesAsync();
        var sending = (await store.GetIfExistsAsync(_scenario.WorkspaceId, _scenario.AccountId, id, default))!;
        Assert.Equal(BroadcastStatus.Sending, sending.Status);
        await store.TryUpdateAsync(sending with { StartedAt = DateTimeOffset.UtcNow.AddMinutes(-20), DispatchedAt = DateTimeOffset.UtcNow.AddMinutes(-20) }, default);

        await using var next = await LumoApp.StartAsync(runTriggers: true, settings: NoScheduleTimer, sharingStorageWith: _scenario.App.Prefix);
        Assert.Contains("Queued 1", await TimerAsync(next.CreateClient()));
        await StatusAsync(id, "completed");

        Assert.All(users, u => Assert.Single(Channel.PushesTo(u.UserId)));
        Assert.Contains("Queued 0", await TimerAsync(next.CreateClient())); // completed: nothing more to do
    }

    private async Task RestartWithoutTriggersAsync()
    {
        await _scenario.DisposeAsync();
        _scenario = await WorkspaceScenario.StartAsync(runTriggers: false);
    }

    [Theory]
    [InlineData("""{"text":"Hi"}""", "name")]
    [InlineData("""{"name":"Both","text":"Hi","messageId":"0123456789abcdef"}""", "text")]
    [InlineData("""{"name":"Unknown message","messageId":"0123456789abcdef"}""", "messageId")]
    [InlineData("""{"name":"Unknown segment","text":"Hi","segmentId":"0123456789abcdef"}""", "segmentId")]
    [InlineData("""{"name":"Past","text":"Hi","scheduledAt":"2020-01-01T00:00:00Z"}""", "scheduledAt")]
    public async Task BadInputIsRefusedNamingTheFieldAndNothingIsSent(string body, string field)
    {
        var response = await _scenario.Admin.PostAsync(BroadcastsPath, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().ContainsKey(field));
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>(BroadcastsPath))!);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-wrong-key-wrong")]
    public async Task WithoutTheAdminKeyNothingCanBeBroadcastSegmentedOrMenued(string? key)
    {
        var (user, _) = await _scenario.LinkedFriendAsync("Target");
        var stranger = _scenario.App.CreateClient();
        if (key is not null) stranger.DefaultRequestHeaders.Add("x-functions-key", key);

        var answers = new[]
        {
            await stranger.PostAsJsonAsync(BroadcastsPath, new { name = "Spam", text = "Spam" }),
            await stranger.PostAsJsonAsync($"{_scenario.AccountPath()}/segments", new { name = "All", conditions = new { linked = true } }),
            await stranger.PostAsync($"{_scenario.AccountPath()}/rich-menus/sync", null),
            await stranger.GetAsync(BroadcastsPath),
        };

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Unauthorized, a.StatusCode));
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>(BroadcastsPath))!);
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/segments"))!);
        Assert.Empty(Channel.PushesTo(user.UserId));
    }

    [Fact]
    public async Task AMessageOverLinesLimitsIsRefused()
    {
        var response = await _scenario.Admin.PostAsJsonAsync(BroadcastsPath, new { name = "Long", text = new string('a', 5_001) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"text\"", await response.Content.ReadAsStringAsync());
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>(BroadcastsPath))!);
    }

    [Fact]
    public async Task ATestSendPushesToTheChosenUsersOnly()
    {
        var (tester, _) = await _scenario.LinkedFriendAsync("Tester");
        var (other, _) = await _scenario.LinkedFriendAsync("Other");
        var id = await CreateAsync(new { name = "Later", text = "Preview me", scheduledAt = DateTimeOffset.UtcNow.AddHours(1) });

        var response = await _scenario.Admin.PostAsJsonAsync($"{BroadcastsPath}/{id}/test", new { userIds = new[] { tester.UserId } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Preview me", Assert.Single(Channel.PushesTo(tester.UserId)).Messages[0]!["text"]!.GetValue<string>());
        Assert.Empty(Channel.PushesTo(other.UserId));
        Assert.Equal("scheduled", (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{BroadcastsPath}/{id}"))!["status"]!.GetValue<string>());
    }
}
