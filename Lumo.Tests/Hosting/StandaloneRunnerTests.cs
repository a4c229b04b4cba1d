using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Storage;
using Lumo.Functions.Hosting;
using Lumo.Functions.Hosting.Standalone;
using Lumo.Sandbox.Infrastructure;
using Lumo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Lumo.Tests.Hosting;

/// <summary>
/// Without a Functions host the app is the whole system: the standalone runner drains the queues and fires the
/// timers named in function.json, with the host's retry and poison-queue semantics.
/// </summary>
public sealed class StandaloneRunnerTests
{
    [Fact]
    public async Task DeliversQueuedWorkToItsFunction()
    {
        await using var app = await LumoApp.StartAsync();
        var tenant = await SandboxTenant.CreateAsync();
        var admin = app.CreateAdminClient();

        var workspace = await admin.CreateWorkspaceAsync(tenant);
        await admin.AddAccountAsync(workspace.Id(), tenant.Channel);

        var verified = await Eventually.MatchesAsync(() => admin.GetWorkspaceAsync(workspace.Id()),
            w => Status(w["klaviyo"]!) == "verified" && Status(w["accounts"]![0]!) == "verified");
        Assert.Equal(tenant.Channel.BasicId, verified["accounts"]![0]!["basicId"]!.GetValue<string>());
        Assert.Equal(tenant.Klaviyo.Id, verified["klaviyo"]!["accountId"]!.GetValue<string>());
    }

    [Fact]
    public async Task ParksWorkThatKeepsFailingInThePoisonQueueAndReplaysItOnRequest()
    {
        var hostJson = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(hostJson, """{"version":"2.0","extensions":{"queues":{"maxDequeueCount":2,"visibilityTimeout":"00:00:00","maxPollingInterval":"00:00:00.500"}}}""");
        await using var app = await LumoApp.StartAsync(settings: new() { ["Lumo:Standalone:HostJsonPath"] = hostJson });
        var tenant = await SandboxTenant.CreateAsync();
        var admin = app.CreateAdminClient();
        // Applying a follow asks LINE for the profile: with LINE failing, the queued events fail every attempt.
        var failing = new FaultRule { Vendor = "line", Caller = tenant.Channel.ChannelId, PathPrefix = "/v2/bot/profile", ServerErrorRate = 1 };
        tenant.Sandbox.Faults.Add(failing);
        try
        {
            var workspace = await admin.CreateWorkspaceAsync(tenant);
            var account = await admin.AddAccountAsync(workspace.Id(), tenant.Channel);
            var user = tenant.AddFriend("Parked");
            await app.CreateClient().PostWebhookAsync(workspace.Id(), account.Id(), tenant.Channel, LineWebhookSender.Follow(user.UserId, DateTimeOffset.UtcNow));
            var friendPath = $"/api/manage/workspaces/{workspace.Id()}/accounts/{account.Id()}/friends/{user.UserId}";

            var parked = await Eventually.MatchesAsync(() => admin.GetFromJsonAsync<JsonArray>("/api/manage/parked"),
                queues => queues!.Any(q => q!["queue"]!.GetValue<string>() == QueueNames.LineEvents && q["parkedCount"]!.GetValue<int>() == 1));
            var messages = await admin.GetFromJsonAsync<JsonArray>($"/api/manage/parked/{QueueNames.LineEvents}");
            Assert.Equal(workspace.Id(), messages![0]!["body"]!["workspaceId"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync(friendPath)).StatusCode);
            var queue = await app.Service<LumoQueues>().GetAsync(QueueNames.LineEvents);
            Assert.Equal(0, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);

            tenant.Sandbox.Faults.Remove(r => r == failing);
            var replay = await admin.PostAsync($"/api/manage/parked/{QueueNames.LineEvents}/replay", null);

            Assert.Equal(1, (await replay.Content.ReadFromJsonAsync<JsonObject>())!["replayed"]!.GetValue<int>());
            await Eventually.MatchesAsync(() => admin.GetAsync(friendPath), r => r.IsSuccessStatusCode);
        }
        finally
        {
            tenant.Sandbox.Faults.Remove(r => r == failing);
            File.Delete(hostJson);
        }
    }

    [Fact]
    public async Task FiresTimersOnTheirNcrontabSchedule()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 10, 0, 30, TimeSpan.Zero));
        await using var app = await LumoApp.StartAsync(services: s => s.AddSingleton<TimeProvider>(clock));
        var client = app.CreateClient();
        Assert.Null((await client.GetFromJsonAsync<JsonObject>("/api/health"))!["lastHeartbeatAt"]);

        // Heartbeat runs at every fifth minute; step the clock (landing exactly on each :x0 second) until it fires.
        var health = await Eventually.MatchesAsync(async () =>
        {
            clock.Advance(TimeSpan.FromSeconds(10));
            return (await client.GetFromJsonAsync<JsonObject>("/api/health"))!;
        }, h => h["lastHeartbeatAt"] is not null);

        // Fired in the minute of a fifth-minute occurrence (the stepped clock may have moved on a little meanwhile).
        var firedAt = DateTimeOffset.Parse(health["lastHeartbeatAt"]!.GetValue<string>());
        Assert.Equal(0, firedAt.Minute % 5);
    }

    [Fact]
    public async Task StaysOffUnderTheFunctionsHost()
    {
        // Triggers are switched on here, so only the presence of the host can keep this runner from starting.
        await using var app = await LumoApp.StartAsync(runTriggers: true);
        var runner = ActivatorUtilities.CreateInstance<StandaloneTriggerRunner>(app.Services, new HostingMode(7071));

        await runner.StartAsync(CancellationToken.None);

        // Left running, the runner would poll queues until stopped; under the host it ends at once, having done nothing.
        await runner.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static string Status(JsonNode connectionOwner) =>
        (connectionOwner["connection"] ?? connectionOwner["klaviyo"]?["connection"])!["status"]!.GetValue<string>();
}
