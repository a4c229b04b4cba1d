using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Lumo.Sandbox;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;

namespace Lumo.Bench;

/// <summary>A scenario's own LINE channel and Klaviyo account in the sandbox, connected as a workspace with one LINE account through the admin API.</summary>
public sealed record BenchWorkspace(LineChannel Channel, KlaviyoAccountState Klaviyo, string WorkspaceId, string AccountId, HttpClient Admin) : IDisposable
{
    public static async Task<BenchWorkspace> CreateAsync(Uri app, SandboxHost sandbox, string name, string tag)
    {
        var channel = sandbox.Line.AddChannel(new LineChannel(RandomNumberGenerator.GetInt32(1_000_000_000, int.MaxValue).ToString(), Hex(16),
            $"bench-{tag}", "U" + Hex(16), "@b" + tag, name));
        var klaviyoKey = $"pk_bench_{tag}";
        var klaviyo = sandbox.Klaviyo.AddAccount("Bench" + tag, klaviyoKey, name);
        var admin = new HttpClient { BaseAddress = app };
        admin.DefaultRequestHeaders.Add("x-functions-key", FunctionApp.AdminKey);
        var workspaceId = (await (await admin.PostAsJsonAsync("api/manage/workspaces", new { name, klaviyo = new { privateApiKey = klaviyoKey } }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var accountId = (await (await admin.PostAsJsonAsync($"api/manage/workspaces/{workspaceId}/accounts",
            new { name, channelId = channel.ChannelId, channelSecret = channel.ChannelSecret, channelAccessToken = channel.AccessToken }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        return new BenchWorkspace(channel, klaviyo, workspaceId, accountId, admin);
    }

    public static string Hex(int bytes) => Convert.ToHexString(RandomNumberGenerator.GetBytes(bytes)).ToLowerInvariant();

    public void Dispose() => Admin.Dispose();
}
