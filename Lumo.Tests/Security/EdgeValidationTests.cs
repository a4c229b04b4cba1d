using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Security;

/// <summary>
/// Ids are checked at the edge against their real formats before they touch a table key, no route reaches the index
/// rows beside friends, and anonymous endpoints check the key before they read a capped body.
/// </summary>
public sealed class EdgeValidationTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync(runTriggers: false);

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    [Theory]
    [InlineData("~profile%3A01K00000000000000000000001")]
    [InlineData("~email%3Aabc")]
    [InlineData("U0000..%2F..%2Fx")]
    [InlineData("u000000000000000000000000000000a1")]
    public async Task AnAdminRequestNamingAnIndexRowOrAMalformedUserIsRefused(string userId)
    {
        var read = await _scenario.Admin.GetAsync($"{_scenario.AccountPath()}/friends/{userId}");
        var write = await _scenario.Admin.PatchAsJsonAsync($"{_scenario.AccountPath()}/friends/{userId}", new { email = "x@example.com" });

        foreach (var response in new[] { read, write })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["userId"]);
        }
    }

    [Theory]
    [InlineData("/api/manage/workspaces/not-a-workspace", "workspaceId")]
    [InlineData("/api/manage/workspaces/{ws}/accounts/..%2F..%2Fx", "accountId")]
    [InlineData("/api/manage/workspaces/{ws}/messages/%23hash", "messageId")]
    [InlineData("/api/manage/workspaces/{ws}/accounts/{acct}/qr-codes/%3Fq", "codeId")]
    public async Task MalformedIdsInAdminRoutesAreRefusedNamingThem(string path, string field)
    {
        var response = await _scenario.Admin.GetAsync(path.Replace("{ws}", _scenario.WorkspaceId).Replace("{acct}", _scenario.AccountId));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]![field]);
    }

    [Fact]
    public async Task PublicEndpointsRefuseMalformedIdsToo()
    {
        var webhook = await _scenario.Client.PostAsync($"/api/line/webhook/{_scenario.WorkspaceId}/x%2Fy", new StringContent("{}"));
        var landing = await _scenario.Client.GetAsync($"/api/link/{_scenario.WorkspaceId}/{_scenario.AccountId}/qr/..%5C?email=a%40b.co");

        Assert.Equal(HttpStatusCode.BadRequest, webhook.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, landing.StatusCode);
    }

    [Fact]
    public async Task TheFlowWebhookChecksItsKeyBeforeItReadsTheBodyAndCapsTheBody()
    {
        var key = await _scenario.FlowKeyAsync();
        var huge = "{\"text\":\"" + new string('a', 2_000_000) + "\"}";

        var wrongKey = await PostFlowAsync(huge, "lfk_wrong");
        var tooLarge = await PostFlowAsync(huge, key);
        var badAccount = await PostFlowAsync($$"""{"to":"U{{SandboxTenant.Hex(16)}}","account":"a/b","text":"hi"}""", key);

        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badAccount.StatusCode);
        Assert.NotNull((await badAccount.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["account"]);
    }

    private Task<HttpResponseMessage> PostFlowAsync(string body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{_scenario.WorkspaceId}/send") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(FlowKeys.HeaderName, key);
        return _scenario.Client.SendAsync(request);
    }
}
