using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Storage;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Lumo.Tests.Infrastructure;
using static Lumo.Tests.Infrastructure.LineWebhookSender;

namespace Lumo.Tests.FlowSends;

/// <summary>
/// Sending LINE from Klaviyo Flows: the Flow key, the webhook's answers, and exactly one push per send however
/// often Klaviyo retries.
/// </summary>
public sealed class FlowSendTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private string _flowKey = null!;

    public async Task InitializeAsync()
    {
        _scenario = await WorkspaceScenario.StartAsync();
        _flowKey = await _scenario.FlowKeyAsync();
    }

    public async Task DisposeAsync()
    {
        Tenant.Sandbox.Faults.Remove(r => r.Caller == Tenant.Channel.ChannelId);
        await _scenario.DisposeAsync();
    }

    private LumoApp App => _scenario.App;
    private SandboxTenant Tenant => _scenario.Tenant;
    private HttpClient Admin => _scenario.Admin;
    /// <summary>Calls the app anonymously, as LINE and Klaviyo do.</summary>
    private HttpClient Caller => _scenario.Client;
    private string WorkspaceId => _scenario.WorkspaceId;
    private string AccountId => _scenario.AccountId;

    private Task<(LineUser User, SimulatedProfile Profile)> LinkedFriendAsync(string name) => _scenario.LinkedFriendAsync(name);

    private Task<HttpResponseMessage> PostFlowAsync(object body, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{WorkspaceId}/send") { Content = JsonContent.Create(body) };
        request.Headers.Add(FlowKeys.HeaderName, key ?? _flowKey);
        return Caller.SendAsync(request);
    }

    private async Task<int> QueuedSends() =>
        (await (await App.Service<LumoQueues>().GetAsync(QueueNames.LineSends)).GetPropertiesAsync()).Value.ApproximateMessagesCount;

    [Fact]
    public async Task ADirectTextReachesTheLinkedFriendAndIsRecordedOnce()
    {
        var (user, profile) = await LinkedFriendAsync("Haru");

        var response = await PostFlowAsync(new { to = user.UserId, account = AccountId, text = "Your cart is waiting 🛒" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var push = await Eventually.MatchesAsync(() => Task.FromResult(Tenant.Channel.PushesTo(user.UserId).ToList()), p => p.Count > 0);
        Assert.Equal("Your cart is waiting 🛒", Assert.Single(push).Messages[0]!["text"]!.GetValue<string>());
        var sent = await Eventually.MatchesAsync(() => Task.FromResult(Tenant.Klaviyo.EventsOf(KlaviyoMetrics.SentLineMessage)), e => e.Count > 0);
        await Eventually.MatchesAsync(() => Task.FromResult(Tenant.Klaviyo.EventsOf(KlaviyoMetrics.DeliveredLineMessage)), e => e.Count > 0);
        Assert.Equal(0, Interlocked.Read(ref Tenant.Channel.RetryKeyRepeats));
        Assert.Equal(profile.Id, Assert.Single(sent).ProfileId);
        Assert.Equal("flow", sent[0].Properties["Source"]!.GetValue<string>());
        var log = await Admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{WorkspaceId}/sends?recipient={user.UserId}");
        Assert.Equal("sent", Assert.Single(log!)!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task AStormOfKlaviyoRetriesSendsExactlyOnce()
    {
        var (user, _) = await LinkedFriendAsync("Sota");
        var body = new { to = user.UserId, account = AccountId, text = "Welcome!", idempotencyKey = "flow-42:step-1:" + user.UserId };

        var answers = await Task.WhenAll(Enumerable.Range(0, 17).Select(_ => PostFlowAsync(body)));

        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, a.StatusCode.ToString()));
        await Eventually.MatchesAsync(() => Task.FromResult(Tenant.Klaviyo.EventsOf(KlaviyoMetrics.DeliveredLineMessage)), e => e.Count > 0);
        // A later send is the marker: anything the storm would have caused is queued before it and arrives before its events.
        await PostFlowAsync(new { to = user.UserId, account = AccountId, text = "marker", idempotencyKey = "marker" });
        await Eventually.MatchesAsync(() => Task.FromResult(Tenant.Klaviyo.EventsOf(KlaviyoMetrics.DeliveredLineMessage)), e => e.Count == 2);
        Assert.Equal(["Welcome!", "marker"], Tenant.Channel.PushesTo(user.UserId).Select(p => p.Messages[0]!["text"]!.GetValue<string>()));
        Assert.Equal(2, Tenant.Klaviyo.EventsOf(KlaviyoMetrics.SentLineMessage).Count);
        // Nothing arrived twice: no retry key pushed again, no event unique_id sent again.
        Assert.Equal(0, Interlocked.Read(ref Tenant.Channel.RetryKeyRepeats));
        Assert.Equal(0, Interlocked.Read(ref Tenant.Klaviyo.DuplicateEventsIgnored));
        var again = await PostFlowAsync(body);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("sent", (await again.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task LineServerErrorsEndInDeliveryNotInADuplicate()
    {
        var (user, _) = await LinkedFriendAsync("Mio");
        // Most pushes fail (429, 500, or 500 after LINE accepted them): retries must neither lose nor repeat.
        Tenant.Sandbox.Faults.Add(new FaultRule { Vendor = "line", Caller = Tenant.Channel.ChannelId, PathPrefix = "/v2/bot/message/push",
            TooManyRequestsRate = 0.15, ServerErrorRate = 0.2, FailAfterProcessingRate = 0.3 });

        await PostFlowAsync(new { to = user.UserId, account = AccountId, text = "Sale ends tonight" });

        await Eventually.MatchesAsync(() => Task.FromResult(Tenant.Klaviyo.EventsOf(KlaviyoMetrics.DeliveredLineMessage)), e => e.Count > 0, TimeSpan.FromSeconds(60));
        Assert.Single(Tenant.Channel.PushesTo(user.UserId));
        // LINE saw the retry key again exactly as often as an injected fault hid an accepted push from us: no repeat without cause.
        Assert.Equal(Tenant.Sandbox.Faults.FailedAfterProcessing.GetValueOrDefault(Tenant.Channel.ChannelId), Interlocked.Read(ref Tenant.Channel.RetryKeyRepeats));
    }

    [Fact]
    public async Task AUsedUpMonthlyQuotaFailsTheSendWithThatReasonInsteadOfRetrying()
    {
        var (user, _) = await LinkedFriendAsync("Aoi");
        Tenant.Channel.MonthlyQuota = 0;

        await PostFlowAsync(new { to = user.UserId, account = AccountId, text = "Flash sale" });

        var failed = await Eventually.MatchesAsync(() => Task.FromResult(Tenant.Klaviyo.EventsOf(KlaviyoMetrics.FailedLineMessage)), e => e.Count > 0);
        Assert.Contains("monthly message quota", failed[0].Properties["Reason"]!.GetValue<string>());
        var log = await Admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{WorkspaceId}/sends?recipient={user.UserId}");
        Assert.Equal("failed", Assert.Single(log!)!["status"]!.GetValue<string>());
        Assert.Empty(Tenant.Channel.PushesTo(user.UserId));
        Assert.Empty(Tenant.Klaviyo.EventsOf(KlaviyoMetrics.SentLineMessage));
    }

    [Fact]
    public async Task AnUnlinkedRecipientIsSkippedWithItsReasonAndNotRetriedByKlaviyo()
    {
        var stranger = Tenant.AddFriend("Unlinked Uta");
        await _scenario.FollowAsync(stranger);
        var notAFriend = "U" + SandboxTenant.Hex(16);

        var unlinked = await PostFlowAsync(new { to = stranger.UserId, account = AccountId, text = "Hi" });
        var unknown = await PostFlowAsync(new { to = notAFriend, account = AccountId, text = "Hi" });

        Assert.Equal(HttpStatusCode.OK, unlinked.StatusCode);
        Assert.Equal("not ID-linked to a Klaviyo profile", (await unlinked.Content.ReadFromJsonAsync<JsonObject>())!["reason"]!.GetValue<string>());
        Assert.Equal("not a friend of this LINE Official Account", (await unknown.Content.ReadFromJsonAsync<JsonObject>())!["reason"]!.GetValue<string>());
        Assert.Equal(0, await QueuedSends());
        var skipped = await Admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{WorkspaceId}/sends?status=Skipped");
        Assert.Equal(2, skipped!.Count);
    }

    [Fact]
    public async Task AReissuedKeyRejectsTheOldOneAtOnce()
    {
        var (user, _) = await LinkedFriendAsync("Kenta");
        var old = _flowKey;

        var reissued = await Admin.PostAsync($"/api/manage/workspaces/{WorkspaceId}/flow-settings/reissue-key", null);
        var settings = (await reissued.Content.ReadFromJsonAsync<JsonObject>())!;
        var withOld = await PostFlowAsync(new { to = user.UserId, account = AccountId, text = "Hi" }, old);
        var withNew = await PostFlowAsync(new { to = user.UserId, account = AccountId, text = "Hi" }, settings["headerValue"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Unauthorized, withOld.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, withNew.StatusCode);
        Assert.StartsWith("admin key ", settings["keyIssuedBy"]!.GetValue<string>());
        Assert.DoesNotContain(LumoApp.AdminKey, settings.ToJsonString());
    }

    [Theory]
    [InlineData("{{ person|lookup:'LINE User ID' }}", "to")]
    [InlineData("", "to")]
    [InlineData("not-a-line-id", "to")]
    public async Task RefusesARecipientThatIsNotALineUserIdWith400(string to, string field)
    {
        var response = await PostFlowAsync(new { to, account = AccountId, text = "Hi" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]![field]);
        Assert.Equal(0, await QueuedSends());
    }

    [Fact]
    public async Task RefusesAnUnknownAccountAndOverlongTextWith400()
    {
        var response = await PostFlowAsync(new { to = "U" + SandboxTenant.Hex(16), account = "0000000000000000", text = new string('a', 5001) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Equal(["account", "text"], errors.Select(e => e.Key).Order());
    }

    [Fact]
    public async Task RefusesAMissingOrWrongKeyWith401AndQueuesNothing()
    {
        var (user, _) = await LinkedFriendAsync("Rina");
        var wrong = await PostFlowAsync(new { to = user.UserId, account = AccountId, text = "Hi" }, "lfk_wrong");
        var missing = await Caller.PostAsJsonAsync($"/api/flow/{WorkspaceId}/send", new { to = user.UserId, account = AccountId, text = "Hi" });

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(0, await QueuedSends());
    }

    [Fact]
    public void RetryKeysAreDeterministicUuids()
    {
        var key = LineSend.RetryKeyOf("abc");
        Assert.Equal(key, LineSend.RetryKeyOf("abc"));
        Assert.NotEqual(key, LineSend.RetryKeyOf("abd"));
        Assert.Equal('8', key.ToString()[14]); // version 8 (name-based, SHA-256)
    }
}
