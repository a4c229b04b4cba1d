using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Sandbox.Line;

namespace Lumo.Tests.Infrastructure;

/// <summary>Admin API calls that many tests make, over the real HTTP pipeline.</summary>
public static class AdminApi
{
    public static async Task<JsonObject> CreateWorkspaceAsync(this HttpClient admin, SandboxTenant tenant, string name = "Test store")
    {
        var response = await admin.PostAsJsonAsync("/api/manage/workspaces", new { name, klaviyo = new { privateApiKey = tenant.KlaviyoKey } });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    public static async Task<JsonObject> AddAccountAsync(this HttpClient admin, string workspaceId, LineChannel channel, string name = "Test OA")
    {
        var response = await admin.PostAsJsonAsync($"/api/manage/workspaces/{workspaceId}/accounts",
            new { name, channelId = channel.ChannelId, channelSecret = channel.ChannelSecret, channelAccessToken = channel.AccessToken });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    public static async Task<JsonObject> GetWorkspaceAsync(this HttpClient admin, string workspaceId) =>
        (await admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{workspaceId}"))!;

    public static string Id(this JsonObject resource) => resource["id"]!.GetValue<string>();
}
