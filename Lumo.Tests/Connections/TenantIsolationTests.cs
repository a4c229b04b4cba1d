using System.Text.Json.Nodes;
using Lumo.Core.Klaviyo;
using Lumo.Core.Line;
using Lumo.Sandbox.Infrastructure;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Connections;

/// <summary>
/// Resilience pipelines (retries, circuit breakers) are kept per LINE channel and per Klaviyo account: one tenant
/// whose calls all fail opens only its own circuit, and another tenant's calls go through untouched.
/// </summary>
public sealed class TenantIsolationTests : IAsyncLifetime
{
    private LumoApp _app = null!;
    private SandboxTenant _throttled = null!, _healthy = null!;
    private LineAccountRef _throttledLine = null!, _healthyLine = null!;
    private string _throttledWorkspace = null!, _healthyWorkspace = null!;

    public async Task InitializeAsync()
    {
        _app = await LumoApp.StartAsync(runTriggers: false);
        var admin = _app.CreateAdminClient();
        (_throttled, _healthy) = (await SandboxTenant.CreateAsync(), await SandboxTenant.CreateAsync());
        _throttledWorkspace = (await admin.CreateWorkspaceAsync(_throttled)).Id();
        _healthyWorkspace = (await admin.CreateWorkspaceAsync(_healthy)).Id();
        _throttledLine = new(_throttledWorkspace, (await admin.AddAccountAsync(_throttledWorkspace, _throttled.Channel)).Id());
        _healthyLine = new(_healthyWorkspace, (await admin.AddAccountAsync(_healthyWorkspace, _healthy.Channel)).Id());
    }

    public async Task DisposeAsync()
    {
        _throttled.Sandbox.Faults.Remove(r => r.Caller == _throttled.Channel.ChannelId || r.Caller == _throttled.Klaviyo.Id);
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task OneTenantWhoseCallsAllFailDoesNotStopAnotherTenantsSendsAndKlaviyoCalls()
    {
        // Server errors open a circuit (429s do not: they ask for patience, and callers wait out Retry-After).
        _throttled.Sandbox.Faults.Add(new FaultRule { Vendor = "line", Caller = _throttled.Channel.ChannelId, ServerErrorRate = 1 });
        _throttled.Sandbox.Faults.Add(new FaultRule { Vendor = "klaviyo", Caller = _throttled.Klaviyo.Id, ServerErrorRate = 1 });
        var line = _app.Service<LineMessagingClient>();
        var klaviyo = _app.Service<KlaviyoClient>();
        var throttledFriend = _throttled.AddFriend("Throttled");
        // Enough failing calls to open a circuit breaker: at least 100 failures in its window (pushes are tried once
        // each, Klaviyo calls with their retries).
        await Task.WhenAll(Enumerable.Range(0, 120).Select(async i =>
        {
            await Assert.ThrowsAsync<LineApiException>(() => line.PushMessageAsync(_throttledLine, Text(throttledFriend.UserId), Guid.NewGuid(), default));
            if (i < 40) await Assert.ThrowsAsync<KlaviyoApiException>(() => klaviyo.GetAccountAsync(_throttledWorkspace, default));
        }));
        var brokenLine = await Assert.ThrowsAsync<LineApiException>(() => line.PushMessageAsync(_throttledLine, Text(throttledFriend.UserId), Guid.NewGuid(), default));
        Assert.Contains("circuit", brokenLine.Message, StringComparison.OrdinalIgnoreCase);

        var healthyFriend = _healthy.AddFriend("Healthy");
        var pushed = await line.PushMessageAsync(_healthyLine, Text(healthyFriend.UserId), Guid.NewGuid(), default);
        var account = await klaviyo.GetAccountAsync(_healthyWorkspace, default);

        Assert.NotNull(pushed.RequestId);
        Assert.Single(_healthy.Channel.PushesTo(healthyFriend.UserId));
        Assert.Equal(_healthy.Klaviyo.Id, account.Id);
    }

    private static LinePush Text(string to) => new(to, [new JsonObject { ["type"] = "text", ["text"] = "hello" }]);
}
