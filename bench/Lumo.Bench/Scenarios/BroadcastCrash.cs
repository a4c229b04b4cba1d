using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Lumo.Sandbox;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// The broadcast of scenario 8 with the app in a process of its own, killed (as a crash or a lost VM would) once
/// about <c>killAt</c> of the recipients were reached, then started again on the same storage. Counts what LINE
/// received per user: every recipient once, nobody twice.
/// </summary>
public static class BroadcastCrash
{
    public sealed record Result(int Friends, int ReachedAtKill, int Reached, int Duplicates, int Missing, long RetryKeyRepeats, long DuplicateEventsReceived,
        TimeSpan RestartToDone, string FinalStatus);

    public static async Task<Result> RunAsync(string storage, SandboxHost sandbox, int friends, double killAt)
    {
        var prefix = "bench" + BenchWorkspace.Hex(3);
        var (first, url) = await FunctionApp.StartProcessAsync(storage, sandbox.BaseUrl, prefix);
        using var bench = await BenchWorkspace.CreateAsync(url, sandbox, "Crash bench", "cr" + BenchWorkspace.Hex(3));
        var (users, _) = await FriendSeed.SeedAsync(new TableServiceClient(storage), prefix, sandbox, bench, friends, 0.2);
        var path = $"api/manage/workspaces/{bench.WorkspaceId}/accounts/{bench.AccountId}";
        var segment = (await (await bench.Admin.PostAsJsonAsync($"{path}/segments", new { name = "Followers", conditions = new { followStatus = "friend" } }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var id = (await (await bench.Admin.PostAsJsonAsync($"{path}/broadcasts", new { name = "Crash sale", text = "Crash sale", segmentId = segment }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        while (bench.Channel.Pushes.Count < friends * killAt) await Task.Delay(5);
        first.Kill(entireProcessTree: true);
        await first.WaitForExitAsync();
        var reachedAtKill = bench.Channel.Pushes.Count;

        var clock = Stopwatch.StartNew();
        var (second, secondUrl) = await FunctionApp.StartProcessAsync(storage, sandbox.BaseUrl, prefix);
        using var admin = new HttpClient { BaseAddress = secondUrl };
        admin.DefaultRequestHeaders.Add("x-functions-key", FunctionApp.AdminKey);
        string status;
        do
        {
            await Task.Delay(500);
            status = (await admin.GetFromJsonAsync<JsonObject>($"{path}/broadcasts/{id}"))!["status"]!.GetValue<string>();
        } while (status != "completed" && clock.Elapsed < TimeSpan.FromMinutes(15));
        var restartToDone = clock.Elapsed;
        // Klaviyo's copies of the events arrive a few seconds after the last chunk.
        await Task.Delay(TimeSpan.FromSeconds(10));
        second.Kill(entireProcessTree: true);

        var received = bench.Channel.Pushes.GroupBy(p => p.To).ToDictionary(g => g.Key, g => g.Count());
        return new Result(friends, reachedAtKill, received.Count, received.Values.Sum(n => n - 1), users.Count(u => !received.ContainsKey(u)),
            Interlocked.Read(ref bench.Channel.RetryKeyRepeats), Interlocked.Read(ref bench.Klaviyo.DuplicateEventsIgnored), restartToDone, status);
    }
}
