using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Lumo.Core.Friends;
using Lumo.Sandbox;
using Lumo.Sandbox.Line;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// Klaviyo Flow sends through the real app: intake (Flow webhook answered), end to end (pushes reaching the
/// sandbox), and a retry storm (every send's webhook posted 17 times, interleaved and concurrent).
/// </summary>
public static class FlowSendLoad
{
    public sealed record Setup(Uri App, string WorkspaceId, string AccountId, string FlowKey, LineChannel Channel, Lumo.Sandbox.Klaviyo.KlaviyoAccountState Klaviyo, List<string> Friends);

    /// <summary>A workspace with one LINE account and <paramref name="friends"/> linked friends, seeded in the app's storage.</summary>
    public static async Task<Setup> PrepareAsync(Uri app, string prefix, string storage, SandboxHost sandbox, int friends, string tag)
    {
        using var bench = await BenchWorkspace.CreateAsync(app, sandbox, "Flow bench", "flow" + tag);
        var (channel, klaviyo, workspaceId, accountId, admin) = bench;
        var flowKey = (await admin.GetFromJsonAsync<JsonObject>($"api/manage/workspaces/{workspaceId}/flow-settings"))!["headerValue"]!.GetValue<string>();

        // Friends are seeded straight into storage: what a long-running account would have accumulated.
        await using var services = FunctionApp.CoreServices(storage, prefix);
        var store = services.GetRequiredService<LineFriendStore>();
        var ids = new List<string>();
        for (var i = 0; i < friends; i++)
        {
            var user = new LineUser("U" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant(), $"Friend {i}");
            sandbox.Line.Users[user.UserId] = user;
            channel.Friends[user.UserId] = new Friendship(user.UserId, false);
            var profile = new Lumo.Sandbox.Klaviyo.SimulatedProfile(klaviyo.NewId());
            lock (klaviyo.Gate) klaviyo.Profiles[profile.Id] = profile;
            ids.Add(user.UserId);
        }
        await Parallel.ForEachAsync(ids.Select((id, i) => (id, i)), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (f, ct) =>
            await store.SaveAsync(new LineFriend
            {
                WorkspaceId = workspaceId, AccountId = accountId, UserId = f.id, FollowStatus = FollowStatus.Friend, Consent = Consent.Granted,
                KlaviyoProfileId = klaviyo.Profiles.Keys.ElementAt(f.i), LinkedAt = DateTimeOffset.UtcNow, LinkedHow = "bench",
            }, ct));
        return new Setup(app, workspaceId, accountId, flowKey, channel, klaviyo, ids);
    }

    public static async Task<Measurement> PostAsync(Setup setup, string name, IReadOnlyList<(string To, string Key)> sends, int concurrency, string text = "Your cart is waiting")
    {
        using var client = new HttpClient { BaseAddress = setup.App };
        return await Measurement.RunAsync(name, sends.Count, concurrency, async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"api/flow/{setup.WorkspaceId}/send")
            {
                Content = JsonContent.Create(new { to = sends[i].To, account = setup.AccountId, text, idempotencyKey = sends[i].Key }),
            };
            request.Headers.Add("X-Lumo-Flow-Key", setup.FlowKey);
            using var response = await client.SendAsync(request);
            if ((int)response.StatusCode is not (200 or 202)) throw new InvalidOperationException($"Flow webhook answered {(int)response.StatusCode}");
        });
    }

    /// <summary>Waits until the sandbox holds <paramref name="expected"/> pushes for the channel; returns when the last arrived.</summary>
    public static async Task<TimeSpan> WaitForPushesAsync(LineChannel channel, int expected, Stopwatch clock, TimeSpan timeout)
    {
        while (channel.Pushes.Count < expected && clock.Elapsed < timeout) await Task.Delay(50);
        return clock.Elapsed;
    }
}
