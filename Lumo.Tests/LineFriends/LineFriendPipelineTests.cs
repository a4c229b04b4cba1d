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
    private WorkspaceScenario _scenario = null!;

    public async Task InitializeAsync()
    {
        _scenario = await WorkspaceScenario.StartAsync();
        // The account's basic id (shown as consent source) is learnt by the connection check.
        await Eventually.MatchesAsync(() => Admin.GetFromJsonAsync<JsonObject>(_scenario.AccountPath()), a => a!["basicId"] is not null);
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private LumoApp App => _scenario.App;
    private SandboxTenant Tenant => _scenario.Tenant;
    private HttpClient Admin => _scenario.Admin;
    /// <summary>Calls the app anonymously, as LINE and Klaviyo do.</summary>
    private HttpClient Caller => _scenario.Client;
    private string WorkspaceId => _scenario.WorkspaceId;
    private string AccountId => _scenario.AccountId;

    private Task<JsonObject> Friend(string userId, string? accountId = null) =>
        Admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{WorkspaceId}/accounts/{accountId ?? AccountId}/friends/{userId}")!;

    private async Task<JsonObject> FriendWhen(string userId, Func<JsonObject, bool> condition, string? accountId = null) =>
        await Eventually.MatchesAsync(async () =>
        {
            var response = await Admin.GetAsync($"/api/manage/workspaces/{WorkspaceId}/accounts/{accountId ?? AccountId}/friends/{userId}");
            return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonObject>())! : [];
        }, f => f.Count > 0 && condition(f));

    private SimulatedProfile NewKlaviyoProfile(string email) => _scenario.NewKlaviyoProfile(email);

    private Task LinkAsync(string userId, string profileId, string? accountId = null) => _scenario.LinkAsync(userId, profileId, accountId);

    /// <summary>
    /// Posts these events with a marker after them in one webhook body: a follow of a linked friend. Events of one
    /// body are applied in order, so once the marker's Followed event reaches Klaviyo, everything before it has been
    /// applied and anything it recorded exported. That is the proof that nothing more happened, not a sleep.
    /// </summary>
    private async Task PostWithMarkerAsync(params JsonObject[] events)
    {
        var (marker, profile) = await _scenario.LinkedFriendAsync("Marker");
        await Caller.PostWebhookAsync(WorkspaceId, AccountId, Tenant.Channel, [.. events, Follow(marker.UserId, DateTimeOffset.UtcNow, unblocked: true)]);
        await Eventually.MatchesAsync(() => Task.FromResult(Tenant.Klaviyo.EventsOf(KlaviyoMetrics.FollowedLineAccount)), e => e.Any(x => x.ProfileId == profile.Id),
            because: "the marker arrives after everything posted before it");
    }

    private async Task<IReadOnlyList<RecordedEvent>> EventsWhen(string metric, int count) =>
        await Eventually.MatchesAsync(() => Task.FromResult(Tenant.Klaviyo.EventsOf(metric)), e => e.Count >= count, because: $"{count} {metric} events");

    [Fact]
    public async Task FollowStoresTheFriendWithConsentButTellsKlaviyoNothingWhileUnlinked()
    {
        var aoi = Tenant.AddFriend("Aoi");
        var followedAt = DateTimeOffset.UtcNow.AddSeconds(-5);

        Assert.Equal(HttpStatusCode.OK, (await Caller.PostWebhookAsync(WorkspaceId, AccountId, Tenant.Channel, Follow(aoi.UserId, followedAt))).StatusCode);

        var friend = await FriendWhen(aoi.UserId, f => f["followStatus"]!.GetValue<string>() == "friend");
        Assert.Equal("Aoi", friend["displayName"]!.GetValue<string>());
        Assert.Equal("granted", friend["consent"]!.GetValue<string>());
        Assert.Equal(followedAt.ToUnixTimeSeconds(), DateTimeOffset.Parse(friend["consentUpdatedAt"]!.GetValue<string>()).ToUnixTimeSeconds());
        Assert.Contains(Tenant.Channel.BasicId, friend["consentSource"]!.GetValue<string>());
        Assert.False(friend["klaviyo"]!["linked"]!.GetValue<bool>());
        await PostWithMarkerAsync(Follow(aoi.UserId, followedAt.AddSeconds(1), unblocked: true));
        Assert.Single(Tenant.Klaviyo.EventsOf(KlaviyoMetrics.FollowedLineAccount)); // the marker's only
    }

    [Fact]
    public async Task LinkedFriendsBlockAndRefollowReachKlaviyoOnceEach()
    {
        var kai = Tenant.AddFriend("Kai");
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        await Caller.PostWebhookAsync(WorkspaceId, AccountId, Tenant.Channel, Follow(kai.UserId, start));
        await FriendWhen(kai.UserId, f => f["followStatus"]!.GetValue<string>() == "friend");
        var profile = NewKlaviyoProfile($"kai-{SandboxTenant.Hex(3)}@example.com");

        await LinkAsync(kai.UserId, profile.Id);

        // Linking writes the current LINE properties at once, and only ours.
        Assert.Equal(kai.UserId, profile.Properties["LINE User ID"]!.GetValue<string>());
        Assert.Equal("friend", profile.Properties["LINE Follow Status"]!.GetValue<string>());
        Assert.Equal("granted", profile.Properties["LINE Consent"]!.GetValue<string>());
        Assert.Equal("gold", profile.Properties["Loyalty tier"]!.GetValue<string>());

        await Caller.PostWebhookAsync(WorkspaceId, AccountId, Tenant.Channel, Unfollow(kai.UserId, start.AddMinutes(1)));
        var blocked = await EventsWhen(KlaviyoMetrics.BlockedLineAccount, 1);
        var friend = await Friend(kai.UserId);
        Assert.Equal("blocked", friend["followStatus"]!.GetValue<string>());
        Assert.Equal("withdrawn", friend["consent"]!.GetValue<string>());
        Assert.Equal("withdrawn", profile.Properties["LINE Consent"]!.GetValue<string>());
        Assert.Equal("blocked", profile.Properties["LINE Follow Status"]!.GetValue<string>());
        Assert.Equal(profile.Id, Assert.Single(blocked).ProfileId);

        await Caller.PostWebhookAsync(WorkspaceId, AccountId, Tenant.Channel, Follow(kai.UserId, start.AddMinutes(2), unblocked: true));
        var followed = await EventsWhen(KlaviyoMetrics.FollowedLineAccount, 1);
        Assert.True(Assert.Single(followed).Properties["Re-follow"]!.GetValue<bool>());
        await Eventually.MatchesAsync(() => Task.FromResult(profile.Properties["LINE Consent"]!.GetValue<string>()), c => c == "granted");
        Assert.Single(Tenant.Klaviyo.EventsOf(KlaviyoMetrics.BlockedLineAccount));
    }

    [Fact]
    public async Task ARedeliveredWebhookChangesNothing()
    {
        var mei = Tenant.AddFriend("Mei");
        await Caller.PostWebhookAsync(WorkspaceId, AccountId, Tenant.Channel, Follow(mei.UserId, DateTimeOffset.UtcNow.AddMinutes(-3)));
        await FriendWhen(mei.UserId, f => f["followStatus"]!.GetValue<string>() == "friend");
        await LinkAsync(mei.UserId, NewKlaviyoProfile($"mei-{SandboxTenant.Hex(3)}@example.com").Id);
        var unfollow = Unfollow(mei.UserId, DateTimeOffset.UtcNow.AddMinutes(-2), eventId: "01REDELIVERED" + SandboxTenant.Hex(6).ToUpperInvariant());

        await Caller.PostWebhookAsync(WorkspaceId, AccountId, Tenant.Channel, unfollow);
        await EventsWhen(KlaviyoMetrics.BlockedLineAccount, 1);
        var before = await Friend(mei.UserId);
        var redelivered = (JsonObject)unfollow.DeepClone();
        redelivered["deliveryContext"]!["isRedelivery"] = true;
        await PostWithMarkerAsync(redelivered, redelivered);

        Assert.Single(Tenant.Klaviyo.EventsOf(KlaviyoMetrics.BlockedLineAccount));
        Assert.Equal(0, Tenant.Klaviyo.DuplicateEventsIgnored); // not even sent again: we knew it was applied
        Assert.Equal(before.ToJsonString(), (await Friend(mei.UserId)).ToJsonString());
    }

    [Fact]
    public async Task AnOlderEventArrivingLateDoesNotUndoANewerOne()
    {
        var ren = Tenant.AddFriend("Ren");
        var now = DateTimeOffset.UtcNow;
        await Caller.PostWebhookAsync(WorkspaceId, AccountId, Tenant.Channel, Unfollow(ren.UserId, now));
        await FriendWhen(ren.UserId, f => f["followStatus"]!.GetValue<string>() == "blocked");

        await PostWithMarkerAsync(Follow(ren.UserId, now.AddMinutes(-1)));

        Assert.Equal("blocked", (await Friend(ren.UserId))["followStatus"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheSecondAccountWritesPropertiesWithSuffix2()
    {
        var second = Tenant.AddChannel();
        var secondId = (await Admin.AddAccountAsync(WorkspaceId, second, "Taiwan")).Id();
        var yu = Tenant.AddFriend("Yu", channel: second);
        await Caller.PostWebhookAsync(WorkspaceId, secondId, second, Follow(yu.UserId, DateTimeOffset.UtcNow));
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

        var response = await Caller.PostWebhookAsync(WorkspaceId, AccountId, Tenant.Channel, [.. events]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await FriendWhen("U000000000000000000000000000000a1", f => f["followStatus"]!.GetValue<string>() == "blocked");
        var parked = await Admin.GetFromJsonAsync<JsonArray>("/api/manage/parked");
        Assert.All(parked!, q => Assert.Equal(0, q!["parkedCount"]!.GetValue<int>()));
    }

    [Fact]
    public async Task ContactDetailsAreNormalisedOrRefusedNamingTheField()
    {
        var sora = Tenant.AddFriend("Sora");
        await Caller.PostWebhookAsync(WorkspaceId, AccountId, Tenant.Channel, Follow(sora.UserId, DateTimeOffset.UtcNow));
        await FriendWhen(sora.UserId, f => f["followStatus"]!.GetValue<string>() == "friend");
        var url = $"/api/manage/workspaces/{WorkspaceId}/accounts/{AccountId}/friends/{sora.UserId}";

        var ok = await Admin.PatchAsJsonAsync(url, new { email = " Sora@Example.COM ", phoneNumber = "+81 90-1234-5678" });
        var bad = await Admin.PatchAsJsonAsync(url, new { email = "not an email", phoneNumber = "12345" });

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
        var nao = Tenant.AddFriend("Nao");
        await Caller.PostWebhookAsync(WorkspaceId, AccountId, Tenant.Channel, Follow(nao.UserId, DateTimeOffset.UtcNow));
        await FriendWhen(nao.UserId, f => f["followStatus"]!.GetValue<string>() == "friend");
        var first = NewKlaviyoProfile($"nao-{SandboxTenant.Hex(3)}@example.com");
        await LinkAsync(nao.UserId, first.Id);

        var response = await Admin.PutAsJsonAsync($"/api/manage/workspaces/{WorkspaceId}/accounts/{AccountId}/friends/{nao.UserId}/link",
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
            var user = Tenant.AddFriend(name);
            await Caller.PostWebhookAsync(WorkspaceId, AccountId, Tenant.Channel, Follow(user.UserId, DateTimeOffset.UtcNow));
            await FriendWhen(user.UserId, f => f["followStatus"]!.GetValue<string>() == "friend");
            var profile = NewKlaviyoProfile($"{name.ToLowerInvariant()}-{SandboxTenant.Hex(3)}@example.com");
            await LinkAsync(user.UserId, profile.Id);
            profile.Properties.Remove("LINE Display Name"); // as if someone edited it in Klaviyo
            profiles.Add(profile);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await Admin.PostAsync($"/api/manage/workspaces/{WorkspaceId}/accounts/{AccountId}/klaviyo-sync", null)).StatusCode);

        var jobs = await Eventually.MatchesAsync(() => Admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{WorkspaceId}/klaviyo-sync-jobs"),
            j => j!.Count == 1 && j[0]!["status"]!.GetValue<string>() == "complete");
        Assert.Equal(3, jobs![0]!["completed"]!.GetValue<int>());
        Assert.All(profiles, p => Assert.NotNull(p.Properties["LINE Display Name"]));
    }
}
