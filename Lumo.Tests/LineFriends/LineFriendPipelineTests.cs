using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Friends;
using Lumo.Core.KlaviyoEvents;
using Lumo.Sandbox.Klaviyo;
using Lumo.Tests.Infrastructure;
using static Lumo.Tests.Infrastructure.LineWebhookSender;

namespace Lumo.Tests.LineFriends;

/// <summary>
/// LINE friends into Klaviyo, end to end on Azurite and the sandbox: webhook → queue → friend state and consent →
/// LINE properties on the linked profile → Followed/Blocked events, each exactly once.
/// </summary>
public sealed class LineFriendPipelineTests : IAsyncLifetime
{
    private LumoApp _app = null!;
    private SandboxTenant _tenant = null!;
    private HttpClient _admin = null!;
    private HttpClient _client = null!;
    private string _workspaceId = null!;
    private string _accountId = null!;

    public async Task InitializeAsync()
    {
        _app = await LumoApp.StartAsync();
        _tenant = await SandboxTenant.CreateAsync();
        _admin = _app.CreateAdminClient();
        _workspaceId = (await _admin.CreateWorkspaceAsync(_tenant)).Id();
        _accountId = (await _admin.AddAccountAsync(_workspaceId, _tenant.Channel)).Id();
        // The account's basic id (shown as consent source) is learnt by the connection check.
        await Eventually.MatchesAsync(() => _admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{_workspaceId}/accounts/{_accountId}"),
            a => a!["basicId"] is not null);
        _client = _app.CreateClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private Task<JsonObject> Friend(string userId, string? accountId = null) =>
        _admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{_workspaceId}/accounts/{accountId ?? _accountId}/friends/{userId}")!;

    private async Task<JsonObject> FriendWhen(string userId, Func<JsonObject, bool> condition, string? accountId = null) =>
        await Eventually.MatchesAsync(async () =>
        {
            var response = await _admin.GetAsync($"/api/manage/workspaces/{_workspaceId}/accounts/{accountId ?? _accountId}/friends/{userId}");
            return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonObject>())! : [];
        }, f => f.Count > 0 && condition(f));

    private SimulatedProfile NewKlaviyoProfile(string email)
    {
        var profile = new SimulatedProfile(_tenant.Klaviyo.NewId()) { Email = email };
        profile.Properties["Loyalty tier"] = "gold";
        lock (_tenant.Klaviyo.Gate) _tenant.Klaviyo.Profiles[profile.Id] = profile;
        return profile;
    }

    private async Task LinkAsync(string userId, string profileId, string? accountId = null)
    {
        var response = await _admin.PutAsJsonAsync($"/api/manage/workspaces/{_workspaceId}/accounts/{accountId ?? _accountId}/friends/{userId}/link", new { klaviyoProfileId = profileId });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<IReadOnlyList<RecordedEvent>> EventsWhen(string metric, int count) =>
        await Eventually.MatchesAsync(() => Task.FromResult(_tenant.Klaviyo.EventsOf(metric)), e => e.Count >= count, because: $"{count} {metric} events");

    [Fact]
    public async Task FollowStoresTheFriendWithConsentButTellsKlaviyoNothingWhileUnlinked()
    {
        var aoi = _tenant.AddFriend("Aoi");
        var followedAt = DateTimeOffset.UtcNow.AddSeconds(-5);

        Assert.Equal(HttpStatusCode.OK, (await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, Follow(aoi.UserId, followedAt))).StatusCode);

        var friend = await FriendWhen(aoi.UserId, f => f["followStatus"]!.GetValue<string>() == "friend");
        Assert.Equal("Aoi", friend["displayName"]!.GetValue<string>());
        Assert.Equal("granted", friend["consent"]!.GetValue<string>());
        Assert.Equal(followedAt.ToUnixTimeSeconds(), DateTimeOffset.Parse(friend["consentUpdatedAt"]!.GetValue<string>()).ToUnixTimeSeconds());
        Assert.Contains(_tenant.Channel.BasicId, friend["consentSource"]!.GetValue<string>());
        Assert.False(friend["klaviyo"]!["linked"]!.GetValue<bool>());
        await Task.Delay(500);
        Assert.Empty(_tenant.Klaviyo.EventsOf(KlaviyoMetrics.FollowedLineAccount));
    }

    [Fact]
    public async Task LinkedFriendsBlockAndRefollowReachKlaviyoOnceEach()
    {
        var kai = _tenant.AddFriend("Kai");
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, Follow(kai.UserId, start));
        await FriendWhen(kai.UserId, f => f["followStatus"]!.GetValue<string>() == "friend");
        var profile = NewKlaviyoProfile($"kai-{SandboxTenant.Hex(3)}@example.com");

        await LinkAsync(kai.UserId, profile.Id);

        // Linking writes the current LINE properties at once, and only ours.
        Assert.Equal(kai.UserId, profile.Properties["LINE User ID"]!.GetValue<string>());
        Assert.Equal("friend", profile.Properties["LINE Follow Status"]!.GetValue<string>());
        Assert.Equal("granted", profile.Properties["LINE Consent"]!.GetValue<string>());
        Assert.Equal("gold", profile.Properties["Loyalty tier"]!.GetValue<string>());

        await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, Unfollow(kai.UserId, start.AddMinutes(1)));
        var blocked = await EventsWhen(KlaviyoMetrics.BlockedLineAccount, 1);
        var friend = await Friend(kai.UserId);
        Assert.Equal("blocked", friend["followStatus"]!.GetValue<string>());
        Assert.Equal("withdrawn", friend["consent"]!.GetValue<string>());
        Assert.Equal("withdrawn", profile.Properties["LINE Consent"]!.GetValue<string>());
        Assert.Equal("blocked", profile.Properties["LINE Follow Status"]!.GetValue<string>());
        Assert.Equal(profile.Id, Assert.Single(blocked).ProfileId);

        await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, Follow(kai.UserId, start.AddMinutes(2), unblocked: true));
        var followed = await EventsWhen(KlaviyoMetrics.FollowedLineAccount, 1);
        Assert.True(Assert.Single(followed).Properties["Re-follow"]!.GetValue<bool>());
        await Eventually.MatchesAsync(() => Task.FromResult(profile.Properties["LINE Consent"]!.GetValue<string>()), c => c == "granted");
        Assert.Single(_tenant.Klaviyo.EventsOf(KlaviyoMetrics.BlockedLineAccount));
    }

    [Fact]
    public async Task ARedeliveredWebhookChangesNothing()
    {
        var mei = _tenant.AddFriend("Mei");
        await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, Follow(mei.UserId, DateTimeOffset.UtcNow.AddMinutes(-3)));
        await FriendWhen(mei.UserId, f => f["followStatus"]!.GetValue<string>() == "friend");
        await LinkAsync(mei.UserId, NewKlaviyoProfile($"mei-{SandboxTenant.Hex(3)}@example.com").Id);
        var unfollow = Unfollow(mei.UserId, DateTimeOffset.UtcNow.AddMinutes(-2), eventId: "01REDELIVERED" + SandboxTenant.Hex(6).ToUpperInvariant());

        await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, unfollow);
        await EventsWhen(KlaviyoMetrics.BlockedLineAccount, 1);
        var before = await Friend(mei.UserId);
        var redelivered = (JsonObject)unfollow.DeepClone();
        redelivered["deliveryContext"]!["isRedelivery"] = true;
        await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, redelivered, redelivered);
        await Task.Delay(1500);

        Assert.Single(_tenant.Klaviyo.EventsOf(KlaviyoMetrics.BlockedLineAccount));
        Assert.Equal(0, _tenant.Klaviyo.DuplicateEventsIgnored); // not even sent again: we knew it was applied
        Assert.Equal(before.ToJsonString(), (await Friend(mei.UserId)).ToJsonString());
    }

    [Fact]
    public async Task AnOlderEventArrivingLateDoesNotUndoANewerOne()
    {
        var ren = _tenant.AddFriend("Ren");
        var now = DateTimeOffset.UtcNow;
        await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, Unfollow(ren.UserId, now));
        await FriendWhen(ren.UserId, f => f["followStatus"]!.GetValue<string>() == "blocked");

        await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, Follow(ren.UserId, now.AddMinutes(-1)));
        await Task.Delay(1500);

        Assert.Equal("blocked", (await Friend(ren.UserId))["followStatus"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheSecondAccountWritesPropertiesWithSuffix2()
    {
        var second = _tenant.AddChannel();
        var secondId = (await _admin.AddAccountAsync(_workspaceId, second, "Taiwan")).Id();
        var yu = _tenant.AddFriend("Yu", channel: second);
        await _client.PostWebhookAsync(_workspaceId, secondId, second, Follow(yu.UserId, DateTimeOffset.UtcNow));
        await FriendWhen(yu.UserId, f => f["followStatus"]!.GetValue<string>() == "friend", secondId);
        var profile = NewKlaviyoProfile($"yu-{SandboxTenant.Hex(3)}@example.com");

        await LinkAsync(yu.UserId, profile.Id, secondId);

        Assert.Equal(yu.UserId, profile.Properties["LINE User ID 2"]!.GetValue<string>());
        Assert.Equal("Yu", profile.Properties["LINE Display Name 2"]!.GetValue<string>());
        Assert.Equal("granted", profile.Properties["LINE Consent 2"]!.GetValue<string>());
        Assert.False(profile.Properties.ContainsKey("LINE User ID"));
    }

    [Fact]
    public async Task EveryEventTypeIsAcceptedAndUnknownTypesAreTolerated()
    {
        var fixture = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "line-webhook-all-events.json")))!;
        var events = fixture["events"]!.AsArray().Select(e => (JsonObject)e!.DeepClone()).ToList();
        foreach (var e in events) e["webhookEventId"] = e["webhookEventId"]!.GetValue<string>() + SandboxTenant.Hex(2);
        events.Add(Event("somethingLineInventsLater", "U" + SandboxTenant.Hex(16), DateTimeOffset.UtcNow, null, false, new JsonObject { ["future"] = new JsonObject { ["x"] = 1 } }));

        var response = await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, [.. events]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await FriendWhen("U000000000000000000000000000000a1", f => f["followStatus"]!.GetValue<string>() == "blocked");
        var parked = await _admin.GetFromJsonAsync<JsonArray>("/api/manage/parked");
        Assert.All(parked!, q => Assert.Equal(0, q!["parkedCount"]!.GetValue<int>()));
    }

    [Fact]
    public async Task ContactDetailsAreNormalisedOrRefusedNamingTheField()
    {
        var sora = _tenant.AddFriend("Sora");
        await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, Follow(sora.UserId, DateTimeOffset.UtcNow));
        await FriendWhen(sora.UserId, f => f["followStatus"]!.GetValue<string>() == "friend");
        var url = $"/api/manage/workspaces/{_workspaceId}/accounts/{_accountId}/friends/{sora.UserId}";

        var ok = await _admin.PatchAsJsonAsync(url, new { email = " Sora@Example.COM ", phoneNumber = "+81 90-1234-5678" });
        var bad = await _admin.PatchAsJsonAsync(url, new { email = "not an email", phoneNumber = "090-1234-5678" });

        var friend = (await ok.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("sora@example.com", friend["email"]!.GetValue<string>());
        Assert.Equal("+819012345678", friend["phoneNumber"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Equal(["email", "phoneNumber"], errors.Select(e => e.Key).Order());
        Assert.Equal("sora@example.com", (await Friend(sora.UserId))["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task LinkingAFriendLinkedElsewhereIsRefused()
    {
        var nao = _tenant.AddFriend("Nao");
        await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, Follow(nao.UserId, DateTimeOffset.UtcNow));
        await FriendWhen(nao.UserId, f => f["followStatus"]!.GetValue<string>() == "friend");
        var first = NewKlaviyoProfile($"nao-{SandboxTenant.Hex(3)}@example.com");
        await LinkAsync(nao.UserId, first.Id);

        var response = await _admin.PutAsJsonAsync($"/api/manage/workspaces/{_workspaceId}/accounts/{_accountId}/friends/{nao.UserId}/link",
            new { klaviyoProfileId = NewKlaviyoProfile($"other-{SandboxTenant.Hex(3)}@example.com").Id });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(first.Id, (await Friend(nao.UserId))["klaviyo"]!["profileId"]!.GetValue<string>());
    }

    [Fact]
    public async Task BulkSyncWritesEveryLinkedFriendsPropertiesThroughAnImportJob()
    {
        var profiles = new List<SimulatedProfile>();
        foreach (var name in new[] { "Hina", "Riku", "Yui" })
        {
            var user = _tenant.AddFriend(name);
            await _client.PostWebhookAsync(_workspaceId, _accountId, _tenant.Channel, Follow(user.UserId, DateTimeOffset.UtcNow));
            await FriendWhen(user.UserId, f => f["followStatus"]!.GetValue<string>() == "friend");
            var profile = NewKlaviyoProfile($"{name.ToLowerInvariant()}-{SandboxTenant.Hex(3)}@example.com");
            await LinkAsync(user.UserId, profile.Id);
            profile.Properties.Remove("LINE Display Name"); // as if someone edited it in Klaviyo
            profiles.Add(profile);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await _admin.PostAsync($"/api/manage/workspaces/{_workspaceId}/accounts/{_accountId}/klaviyo-sync", null)).StatusCode);

        var jobs = await Eventually.MatchesAsync(() => _admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{_workspaceId}/klaviyo-sync-jobs"),
            j => j!.Count == 1 && j[0]!["status"]!.GetValue<string>() == "complete");
        Assert.Equal(3, jobs![0]!["completed"]!.GetValue<int>());
        Assert.All(profiles, p => Assert.NotNull(p.Properties["LINE Display Name"]));
    }
}
