using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Lumo.Sandbox.Infrastructure;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Hosting;

/// <summary>
/// The app answers the Functions host the way the custom-handler protocol requires: readiness on GET /, invocation
/// envelopes on POST /{FunctionName} (in the shapes the host really sends), JSON invocation results, and non-2xx
/// for failures so the host retries.
/// </summary>
public sealed class CustomHandlerProtocolTests : IAsyncLifetime
{
    private LumoApp _app = null!;
    private SandboxTenant _tenant = null!;
    private HttpClient _host = null!;

    public async Task InitializeAsync()
    {
        _app = await LumoApp.StartAsync(runTriggers: false);
        _tenant = await SandboxTenant.CreateAsync();
        _host = _app.CreateClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task AnswersTheHostsReadinessProbe()
    {
        var response = await _host.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string> QueueMessageShapes => new()
    {
        // The message as an object, as a JSON string holding the JSON text, and encoded twice over.
        "{{\"Data\":{{\"request\":{0}}},\"Metadata\":{{\"DequeueCount\":1}}}}",
        "{{\"Data\":{{\"request\":{1}}},\"Metadata\":{{\"DequeueCount\":\"1\"}}}}",
        "{{\"Data\":{{\"request\":{2}}},\"Metadata\":{{\"DequeueCount\":\"1\",\"Id\":\"\\\"abc\\\"\"}}}}",
    };

    [Theory]
    [MemberData(nameof(QueueMessageShapes))]
    public async Task RunsAQueueFunctionFromEveryEnvelopeShapeTheHostSends(string template)
    {
        var admin = _app.CreateAdminClient();
        var workspace = await admin.CreateWorkspaceAsync(_tenant);
        var message = new JsonObject { ["workspaceId"] = workspace.Id() }.ToJsonString();
        var once = JsonValue.Create(message)!.ToJsonString();
        var twice = JsonValue.Create(once)!.ToJsonString();
        var body = string.Format(template, message, once, twice);

        var response = await _host.PostAsync("/VerifyConnections", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var result = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(result.ContainsKey("Outputs") && result.ContainsKey("Logs") && result.ContainsKey("ReturnValue"));
        var after = await admin.GetWorkspaceAsync(workspace.Id());
        Assert.Equal("verified", after["klaviyo"]!["connection"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task RunsATimerFunctionFromTheHostsTimerPayload()
    {
        var payload = """
            {"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-22T00:00:00Z","Next":"2026-11-22T00:05:00Z","LastUpdated":"2026-11-22T00:00:00Z"},"IsPastDue":true}},
             "Metadata":{"sys":{"MethodName":"Heartbeat","UtcNow":"2026-11-22T00:05:01Z","RandGuid":"5b0f3a1e-1111-2222-3333-444455556666"}}}
            """;
        var response = await _host.PostAsync("/Heartbeat", new StringContent(payload, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = (await _host.GetFromJsonAsync<JsonObject>("/api/health"))!;
        Assert.NotNull(health["lastHeartbeatAt"]);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"Metadata\":{}}")]
    [InlineData("{\"Data\":{\"somethingElse\":1}}")]
    [InlineData("{\"Data\":{\"request\":\"{\\\"workspaceId\\\": 5}\"}}")]
    public async Task AnswersAMalformedEnvelopeWith400(string body)
    {
        var response = await _host.PostAsync("/VerifyConnections", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task AnswersAnUnknownFunctionWith404Problem()
    {
        var response = await _host.PostAsync("/NoSuchFunction", new StringContent("{\"Data\":{}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AnswersAFailedInvocationWith500SoTheHostRetries()
    {
        var admin = _app.CreateAdminClient();
        var workspace = await admin.CreateWorkspaceAsync(_tenant);
        var account = await admin.AddAccountAsync(workspace.Id(), _tenant.Channel);
        // Applying a follow asks LINE for the profile; LINE failing is a failure worth retrying.
        _tenant.Sandbox.Faults.Add(new FaultRule { Vendor = "line", Caller = _tenant.Channel.ChannelId, PathPrefix = "/v2/bot/profile", ServerErrorRate = 1 });
        try
        {
            var batch = new JsonObject
            {
                ["workspaceId"] = workspace.Id(), ["accountId"] = account.Id(),
                ["events"] = new JsonArray(LineWebhookSender.Follow(_tenant.AddFriend("Retry").UserId, DateTimeOffset.UtcNow)),
            };
            var envelope = new JsonObject { ["Data"] = new JsonObject { ["batch"] = batch.ToJsonString() } };
            var response = await _host.PostAsJsonAsync("/ProcessLineEvents", envelope);

            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            var result = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.Contains("ProcessLineEvents failed", result["Logs"]![0]!.GetValue<string>());
        }
        finally
        {
            _tenant.Sandbox.Faults.Remove(r => r.Caller == _tenant.Channel.ChannelId);
        }
    }

    [Fact]
    public async Task AConnectionCheckDuringAnOutageIsQueuedAgainNotParked()
    {
        var admin = _app.CreateAdminClient();
        var workspace = await admin.CreateWorkspaceAsync(_tenant);
        var queue = await _app.Service<Lumo.Core.Storage.LumoQueues>().GetAsync(Lumo.Core.Storage.QueueNames.VerifyConnections);
        await queue.ClearMessagesAsync(); // the check queued by the creation: this test makes the host's delivery itself
        _tenant.Sandbox.Faults.Add(new FaultRule { Vendor = "klaviyo", Caller = _tenant.Klaviyo.Id, ServiceUnavailableRate = 1 });
        try
        {
            var envelope = new JsonObject { ["Data"] = new JsonObject { ["request"] = new JsonObject { ["workspaceId"] = workspace.Id() }.ToJsonString() } };
            var response = await _host.PostAsJsonAsync("/VerifyConnections", envelope);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // not a failure: nothing counts towards parking
            Assert.Equal(1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount); // checked again in a minute
            Assert.Equal("unverified", (await admin.GetWorkspaceAsync(workspace.Id()))["klaviyo"]!["connection"]!["status"]!.GetValue<string>());
        }
        finally
        {
            _tenant.Sandbox.Faults.Remove(r => r.Caller == _tenant.Klaviyo.Id);
        }
    }
}
