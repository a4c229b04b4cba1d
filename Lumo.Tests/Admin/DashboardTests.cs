using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Friends;
using Lumo.Core.Storage;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Admin;

/// <summary>GET …/dashboard: integration status, the connected Klaviyo account, and the sync history of every kind.</summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private string DashboardPath => $"/api/manage/workspaces/{_scenario.WorkspaceId}/dashboard";

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync();

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    [Fact]
    public async Task ShowsTheConnectedAccountAndAPropertyWriteInTheHistoryAndTurnsToSyncFailingWhileWorkIsParked()
    {
        await _scenario.LinkedFriendAsync("Ichika");
        var healthy = await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>(DashboardPath), d => d!["status"]!["health"]!.GetValue<string>() == "healthy");
        Assert.Equal("private-api-key", healthy!["klaviyo"]!["connectedWith"]!.GetValue<string>());
        Assert.Equal("LINE User ID", healthy["klaviyo"]!["idMatchingProperties"]![_scenario.AccountId]!.GetValue<string>());
        Assert.Equal(_scenario.Tenant.Klaviyo.Id, healthy["klaviyo"]!["accountId"]!.GetValue<string>());

        var sync = await _scenario.Admin.PostAsync($"{_scenario.AccountPath()}/klaviyo-sync", null);
        Assert.Equal(HttpStatusCode.Accepted, sync.StatusCode);
        var written = await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>(DashboardPath + "?failures=true"),
            d => d!["history"]!.AsArray().Any(h => h!["kind"]!.GetValue<string>() == "property-writes" && h["status"]!.GetValue<string>() == "complete"));
        var entry = written!["history"]!.AsArray().First(h => h!["kind"]!.GetValue<string>() == "property-writes")!;
        Assert.Equal(1, entry["profiles"]!.GetValue<int>());
        Assert.Equal(0, entry["failures"]!.GetValue<int>());
        Assert.Equal(_scenario.AccountId, entry["accountId"]!.GetValue<string>());
        Assert.True(written["status"]!["latestDataSynced"]!.GetValue<bool>());

        // Work parked after failing every attempt makes the integration "sync failing" until it is replayed.
        await _scenario.App.Service<LumoQueues>().EnqueueAsync(QueueNames.PoisonOf(QueueNames.KlaviyoProfileSync), new ProfileSyncRequest(_scenario.WorkspaceId, _scenario.AccountId));
        var failing = await _scenario.Admin.GetFromJsonAsync<JsonObject>(DashboardPath);
        Assert.Equal("syncFailing", failing!["status"]!["health"]!.GetValue<string>());
        Assert.Equal(1, failing["status"]!["parkedWork"]!.GetValue<int>());
    }

    [Fact]
    public async Task WithoutTheAdminKeyTheDashboardIsRefused()
    {
        var response = await _scenario.Client.GetAsync(DashboardPath);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task AnUnknownWorkspaceIsNotFound()
    {
        var response = await _scenario.Admin.GetAsync($"/api/manage/workspaces/{Lumo.Core.Ids.NewLumoId()}/dashboard");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
