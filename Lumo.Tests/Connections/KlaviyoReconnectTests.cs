using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.KlaviyoEvents;
using Lumo.Sandbox.Klaviyo;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Connections;

/// <summary>
/// A Klaviyo key that stops working (revoked, rotated) pauses the workspace's Klaviyo work as <c>needs-reconnect</c>
/// instead of parking it; replacing the key resumes it, and everything recorded meanwhile arrives once.
/// </summary>
public sealed class KlaviyoReconnectTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync();

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<JsonObject> KlaviyoConnectionAsync() =>
        (await _scenario.Admin.GetWorkspaceAsync(_scenario.WorkspaceId))["klaviyo"]!["connection"]!.AsObject();

    [Fact]
    public async Task ARevokedKeyPausesTheWorkspaceParksNothingAndTheReplacedKeyDeliversEverythingOnce()
    {
        var (user, profile) = await _scenario.LinkedFriendAsync("Kaito");
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.LinkedLineIdentity)), e => e.Count == 1);
        var newKey = "pk_" + SandboxTenant.Hex(16);
        _scenario.Tenant.Sandbox.Klaviyo.ReplaceKey(_scenario.Tenant.Klaviyo, newKey); // the merchant revoked the key Lumo holds
        var recorder = _scenario.App.Service<KlaviyoEventRecorder>();
        foreach (var i in Enumerable.Range(0, 40))
            await recorder.RecordAsync(new KlaviyoEvent(_scenario.WorkspaceId, profile.Id, KlaviyoMetrics.ClickedLineMessage, $"while-revoked-{i}", DateTimeOffset.UtcNow, []), default);

        var paused = await Eventually.MatchesAsync(KlaviyoConnectionAsync, c => c["status"]!.GetValue<string>() == "needs-reconnect");
        Assert.Contains("event export", paused["detail"]!.GetValue<string>());
        Assert.Contains("401", paused["detail"]!.GetValue<string>());
        // A LINE event for the linked friend meanwhile: its property write waits instead of failing the queue message.
        await _scenario.Client.PostWebhookAsync(_scenario.WorkspaceId, _scenario.AccountId, _scenario.Tenant.Channel, LineWebhookSender.Unfollow(user.UserId, DateTimeOffset.UtcNow));
        await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{user.UserId}")!,
            f => f!["followStatus"]!.GetValue<string>() == "blocked");

        var replaced = await _scenario.Admin.PatchAsJsonAsync($"/api/manage/workspaces/{_scenario.WorkspaceId}", new { klaviyo = new { privateApiKey = newKey } });
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);

        await Eventually.MatchesAsync(KlaviyoConnectionAsync, c => c["status"]!.GetValue<string>() == "verified");
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.ClickedLineMessage)), e => e.Count == 40,
            because: "the events recorded while the key was revoked are sent once it works again");
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.BlockedLineAccount)), e => e.Count == 1);
        await Eventually.MatchesAsync(() => Task.FromResult(profile.Properties["LINE Follow Status"]?.GetValue<string>()), s => s == "blocked",
            because: "the property write that waited is made when the connection resumes");
        Assert.Equal(0, Interlocked.Read(ref _scenario.Tenant.Klaviyo.DuplicateEventsIgnored));
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{_scenario.WorkspaceId}/klaviyo-events/parked"))!);
        var parkedQueues = (await _scenario.Admin.GetFromJsonAsync<JsonArray>("/api/manage/parked"))!;
        Assert.All(parkedQueues, q => Assert.Equal(0, q!["parkedCount"]!.GetValue<int>()));
    }
}
