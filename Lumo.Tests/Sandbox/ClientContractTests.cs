using System.Text.Json.Nodes;
using Lumo.Core.Klaviyo;
using Lumo.Core.Line;
using Lumo.Sandbox.Infrastructure;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Sandbox;

/// <summary>
/// Our LINE and Klaviyo clients, run against the sandbox, send only what the official OpenAPI documents allow, and
/// the sandbox answers only what they declare: the sandbox validates both directions and records violations.
/// </summary>
public sealed class ClientContractTests : IAsyncLifetime
{
    private LumoApp _app = null!;
    private SandboxTenant _tenant = null!;
    private string _workspaceId = null!;
    private LineAccountRef _account = null!;

    public async Task InitializeAsync()
    {
        _app = await LumoApp.StartAsync(runTriggers: false);
        _tenant = await SandboxTenant.CreateAsync();
        var admin = _app.CreateAdminClient();
        var workspace = await admin.CreateWorkspaceAsync(_tenant);
        _workspaceId = workspace.Id();
        _account = new LineAccountRef(_workspaceId, (await admin.AddAccountAsync(_workspaceId, _tenant.Channel)).Id());
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private long _botInfoCallsBefore;

    private bool Mine(ContractViolation v) => v.Caller == _tenant.Channel.ChannelId || v.Caller == _tenant.Klaviyo.Id;

    [Fact]
    public async Task LineClientCallsConformToTheMessagingApiSpec()
    {
        var line = _app.Service<LineMessagingClient>();
        var friend = _tenant.AddFriend("Aiko");
        var blocked = _tenant.AddFriend("Blocked Ben", blocked: true);
        
        var bot = await line.GetBotInfoAsync(_account, default);
        var profile = await line.GetProfileIfExistsAsync(_account, friend.UserId, default);
        var notAFriend = await line.GetProfileIfExistsAsync(_account, blocked.UserId, default);
        var pushed = await line.PushMessageAsync(_account, new LinePush(friend.UserId, [new JsonObject { ["type"] = "text", ["text"] = "こんにちは 👋" }]), Guid.NewGuid(), default);

        Assert.Equal(_tenant.Channel.BotUserId, bot.UserId);
        Assert.Equal("Aiko", profile!.DisplayName);
        Assert.Null(notAFriend);
        Assert.False(pushed.WasAlreadyAccepted);
        Assert.DoesNotContain(_tenant.Sandbox.Violations.All, Mine);
    }

    [Fact]
    public async Task KlaviyoClientCallsConformToTheKlaviyoSpec()
    {
        var klaviyo = _app.Service<KlaviyoClient>();
        
        var account = await klaviyo.GetAccountAsync(_workspaceId, default);
        var id = await klaviyo.ImportProfileAsync(_workspaceId, new KlaviyoProfileUpsert(null, "mika@example.com", "+819012345678",
            new Dictionary<string, object?> { ["LINE User ID"] = "U0123456789abcdef0123456789abcdef" }), default);
        var found = await klaviyo.GetProfilesAsync(_workspaceId, "equals(email,\"mika@example.com\")", default).ToListAsync();

        Assert.Equal(_tenant.Klaviyo.Id, account.Id);
        Assert.Equal(id, Assert.Single(found).Id);
        Assert.DoesNotContain(_tenant.Sandbox.Violations.All, Mine);
    }

    [Fact]
    public async Task ProfileImportWritesOnlyTheGivenPropertiesAndKeepsTheRest()
    {
        var klaviyo = _app.Service<KlaviyoClient>();
        var id = await klaviyo.ImportProfileAsync(_workspaceId, new KlaviyoProfileUpsert(null, $"keep-{SandboxTenant.Hex(3)}@example.com", null,
            new Dictionary<string, object?> { ["Favourite colour"] = "blue" }), default);

        await klaviyo.ImportProfileAsync(_workspaceId, new KlaviyoProfileUpsert(id, null, null, new Dictionary<string, object?> { ["LINE Display Name"] = "Keiko" }), default);

        var properties = _tenant.Klaviyo.Profiles[id].Properties;
        Assert.Equal("blue", properties["Favourite colour"]!.GetValue<string>());
        Assert.Equal("Keiko", properties["LINE Display Name"]!.GetValue<string>());
    }

    [Fact]
    public async Task PagesThroughEveryProfile()
    {
        for (var i = 0; i < 130; i++)
            _tenant.Klaviyo.Profiles[_tenant.Klaviyo.NewId()] = new Lumo.Sandbox.Klaviyo.SimulatedProfile(_tenant.Klaviyo.NewId()) { Email = $"p{i}@example.com" };
        var all = await _app.Service<KlaviyoClient>().GetProfilesAsync(_workspaceId, null, default).ToListAsync();
        Assert.Equal(130, all.Count);
    }

    [Fact]
    public async Task RepeatedRetryKeyIsReportedAsAlreadyAcceptedAndSendsOnce()
    {
        var line = _app.Service<LineMessagingClient>();
        var friend = _tenant.AddFriend("Chika");
        var key = Guid.NewGuid();
        var push = new LinePush(friend.UserId, [new JsonObject { ["type"] = "text", ["text"] = "Your cart is waiting" }]);

        var first = await line.PushMessageAsync(_account, push, key, default);
        var second = await line.PushMessageAsync(_account, push, key, default);

        Assert.False(first.WasAlreadyAccepted);
        Assert.True(second.WasAlreadyAccepted);
        Assert.Equal(first.RequestId, second.RequestId);
        Assert.Single(_tenant.Channel.PushesTo(friend.UserId));
    }

    [Fact]
    public async Task PushToABlockedUserIsAcceptedButNotDelivered()
    {
        var blocked = _tenant.AddFriend("Daichi", blocked: true);
        await _app.Service<LineMessagingClient>().PushMessageAsync(_account, new LinePush(blocked.UserId, [new JsonObject { ["type"] = "text", ["text"] = "hi" }]), Guid.NewGuid(), default);

        Assert.False(Assert.Single(_tenant.Channel.PushesTo(blocked.UserId)).Delivered);
    }

    [Fact]
    public async Task AMessageTheSpecForbidsIsRejectedWithLinesErrorBody()
    {
        var friend = _tenant.AddFriend("Emi");
        var error = await Assert.ThrowsAsync<LineApiException>(() => _app.Service<LineMessagingClient>().PushMessageAsync(_account,
            new LinePush(friend.UserId, [new JsonObject { ["type"] = "hologram" }]), Guid.NewGuid(), default));

        Assert.Equal(400, error.Status);
        Assert.Contains(error.Details, d => d.Contains("messages[0].type"));
        Assert.Empty(_tenant.Channel.PushesTo(friend.UserId));
    }

    [Fact]
    public async Task TheRateLimitAnswers429WithRetryAfterInTheVendorsShape()
    {
        _tenant.Sandbox.Limiter.Override(new RateLimit("klaviyo:profiles", PerSecond: 1, PerMinute: 1), _tenant.Klaviyo.Id);
        using var http = new HttpClient { BaseAddress = _tenant.Sandbox.BaseUrl };
        HttpResponseMessage Send()
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "api/profiles");
            request.Headers.Add("Authorization", "Klaviyo-API-Key " + _tenant.KlaviyoKey);
            request.Headers.Add("revision", "2026-07-15");
            return http.Send(request);
        }

        var allowed = Send();
        var limited = Send();

        Assert.Equal(200, (int)allowed.StatusCode);
        Assert.Equal(429, (int)limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter!.Delta > TimeSpan.Zero);
        var body = JsonNode.Parse(await limited.Content.ReadAsStringAsync())!;
        Assert.Equal("throttled", body["errors"]![0]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task ADroppedConnectionSurfacesAsATransientLineError()
    {
        _tenant.Sandbox.Faults.Add(new FaultRule { Vendor = "line", Caller = _tenant.Channel.ChannelId, DropConnectionRate = 1 });
        try
        {
            var error = await Assert.ThrowsAsync<LineApiException>(() => _app.Service<LineMessagingClient>().GetBotInfoAsync(_account, default));
            Assert.Equal(0, error.Status);
            Assert.True(error.IsTransient);
        }
        finally
        {
            _tenant.Sandbox.Faults.Remove(r => r.Caller == _tenant.Channel.ChannelId);
        }
    }

    [Fact]
    public async Task AThrottleLongerThanTheHandlerWaitsComesBackAtOnceAsKlaviyos429WithItsWait()
    {
        var before = _tenant.Sandbox.Requests.CountOf(_tenant.Klaviyo.Id, "GET", "/api/profiles");
        // As Klaviyo's minute window answers late in a minute. Waited out inside the handler, it would end in the
        // handler's 40 s timeout and reach the caller as "no answer".
        _tenant.Sandbox.Faults.Add(new FaultRule { Vendor = "klaviyo", Caller = _tenant.Klaviyo.Id, PathPrefix = "/api/profiles", TooManyRequestsRate = 1, RetryAfterSeconds = 50 });
        try
        {
            var error = await Assert.ThrowsAsync<KlaviyoApiException>(() => _app.Service<KlaviyoClient>().GetProfilesPageAsync(_workspaceId, null, null, default));

            Assert.Equal((429, TimeSpan.FromSeconds(50)), (error.Status, error.RetryAfter));
            Assert.Equal(1, _tenant.Sandbox.Requests.CountOf(_tenant.Klaviyo.Id, "GET", "/api/profiles") - before);
        }
        finally
        {
            _tenant.Sandbox.Faults.Remove(r => r.Caller == _tenant.Klaviyo.Id);
        }
    }

    [Fact]
    public async Task TransientFailuresAreRetriedByTheClientAndSucceed()
    {
        _botInfoCallsBefore = _tenant.Sandbox.Requests.CountOf(_tenant.Channel.ChannelId, "GET", "/v2/bot/info");
        // Two 503s with Retry-After, then LINE answers: the resilience handler's retries get through.
        _tenant.Sandbox.Faults.Add(new FaultRule { Vendor = "line", Caller = _tenant.Channel.ChannelId, FailFirstRequests = 2, RetryAfterSeconds = 1 });
        try
        {
            Assert.Equal(_tenant.Channel.BotUserId, (await _app.Service<LineMessagingClient>().GetBotInfoAsync(_account, default)).UserId);
            Assert.Equal(3, _tenant.Sandbox.Requests.CountOf(_tenant.Channel.ChannelId, "GET", "/v2/bot/info") - _botInfoCallsBefore);
        }
        finally
        {
            _tenant.Sandbox.Faults.Remove(r => r.Caller == _tenant.Channel.ChannelId);
        }
    }
}
