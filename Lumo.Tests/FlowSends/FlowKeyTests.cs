using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.FlowSends;

/// <summary>
/// The Flow key is issued exactly once: reading Flow Message Settings never issues or reissues one, two instances
/// racing on the first read get the same key, and an instance with a stale secret cache never replaces the current key.
/// </summary>
public sealed class FlowKeyTests : IAsyncLifetime
{
    private LumoApp _first = null!, _second = null!;
    private string _workspaceId = null!;

    public async Task InitializeAsync()
    {
        _first = await LumoApp.StartAsync(runTriggers: false);
        _second = await LumoApp.StartAsync(runTriggers: false, sharingStorageWith: _first.Prefix); // a second instance on the same storage
        _workspaceId = (await _first.CreateAdminClient().CreateWorkspaceAsync(await SandboxTenant.CreateAsync())).Id();
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
    }

    private async Task<string> ReadKeyAsync(LumoApp instance) =>
        (await instance.CreateAdminClient().GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{_workspaceId}/flow-settings"))!["headerValue"]!.GetValue<string>();

    private async Task<HttpStatusCode> FlowSendWithAsync(LumoApp instance, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{_workspaceId}/send")
        {
            Content = JsonContent.Create(new { to = "U" + SandboxTenant.Hex(16), account = "0000000000000000", text = "Hi" }),
        };
        request.Headers.Add(FlowKeys.HeaderName, key);
        return (await instance.CreateClient().SendAsync(request)).StatusCode;
    }

    [Fact]
    public async Task TwoInstancesRacingOnTheFirstReadIssueOneKey()
    {
        var keys = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => ReadKeyAsync(i % 2 == 0 ? _first : _second)));

        var key = Assert.Single(keys.Distinct());
        // Accepted by both instances (the body is then refused for its unknown account: 400, not 401).
        Assert.Equal(HttpStatusCode.BadRequest, await FlowSendWithAsync(_first, key));
        Assert.Equal(HttpStatusCode.BadRequest, await FlowSendWithAsync(_second, key));
        Assert.Equal(key, await ReadKeyAsync(_first));
    }

    [Fact]
    public async Task AnInstanceWithAStaleSecretCacheShowsTheReissuedKeyAndNeverReplacesIt()
    {
        var old = await ReadKeyAsync(_first); // the first instance now holds it in its secret cache
        var reissued = (await (await _second.CreateAdminClient().PostAsync($"/api/manage/workspaces/{_workspaceId}/flow-settings/reissue-key", null))
            .Content.ReadFromJsonAsync<JsonObject>())!["headerValue"]!.GetValue<string>();

        var seenByFirst = await ReadKeyAsync(_first);

        Assert.Equal(reissued, seenByFirst);
        Assert.Equal(reissued, await ReadKeyAsync(_second));
        Assert.Equal(HttpStatusCode.Unauthorized, await FlowSendWithAsync(_first, old));
        Assert.Equal(HttpStatusCode.BadRequest, await FlowSendWithAsync(_second, reissued));
    }
}
