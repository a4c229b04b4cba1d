using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.KlaviyoEvents;
using Lumo.Sandbox;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Klaviyo;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// Klaviyo outages against the running app (standalone, triggers on): a revoked key for a while, then replaced; and
/// 503 for a while. Events keep being recorded meanwhile; what counts is what arrived (once each), what was parked,
/// the connection states seen, and how long after the outage the last event arrived.
/// </summary>
public static class KlaviyoOutages
{
    public sealed record Result(string Name, int Recorded, int Delivered, long DuplicatesReceived, int Parked, IReadOnlyList<string> StatesSeen, TimeSpan CatchUp);

    public static async Task<Result> RevokedKeyAsync(Uri app, string prefix, string storage, SandboxHost sandbox, TimeSpan outage, int events) =>
        await RunAsync(app, prefix, storage, sandbox, "401 (key revoked, then replaced)", events, outage,
            startOutage: bench => sandbox.Klaviyo.ReplaceKey(bench.Klaviyo, "pk_bench_rotated_" + BenchWorkspace.Hex(8)),
            endOutage: async bench => (await bench.Admin.PatchAsJsonAsync($"api/manage/workspaces/{bench.WorkspaceId}",
                new { klaviyo = new { privateApiKey = bench.Klaviyo.ApiKey } })).EnsureSuccessStatusCode());

    public static async Task<Result> ServiceUnavailableAsync(Uri app, string prefix, string storage, SandboxHost sandbox, TimeSpan outage, int events) =>
        await RunAsync(app, prefix, storage, sandbox, "503 for the whole outage", events, outage,
            startOutage: bench => sandbox.Faults.Add(new FaultRule { Vendor = "klaviyo", Caller = bench.Klaviyo.Id, ServiceUnavailableRate = 1, RetryAfterSeconds = 5,
                ActiveUntil = DateTimeOffset.UtcNow + outage }),
            endOutage: _ => Task.CompletedTask);

    private static async Task<Result> RunAsync(Uri app, string prefix, string storage, SandboxHost sandbox, string name, int events, TimeSpan outage,
        Action<BenchWorkspace> startOutage, Func<BenchWorkspace, Task> endOutage)
    {
        using var bench = await BenchWorkspace.CreateAsync(app, sandbox, "Outage bench", "out" + BenchWorkspace.Hex(3));
        var profiles = Enumerable.Range(0, 200).Select(_ => new SimulatedProfile(bench.Klaviyo.NewId())).ToList();
        lock (bench.Klaviyo.Gate) foreach (var p in profiles) bench.Klaviyo.Profiles[p.Id] = p;
        await using var services = FunctionApp.CoreServices(storage, prefix);
        var recorder = services.GetRequiredService<KlaviyoEventRecorder>();
        var states = new List<string>();
        using var watching = new CancellationTokenSource();
        var watcher = WatchStatesAsync(bench, states, watching.Token);

        startOutage(bench);
        var clock = Stopwatch.StartNew();
        // Events keep coming during the outage, spread over it, as LINE actions would.
        for (var i = 0; i < events; i++)
        {
            await recorder.RecordAsync(new KlaviyoEvent(bench.WorkspaceId, profiles[i % profiles.Count].Id, KlaviyoMetrics.ClickedLineMessage, $"outage-{i}",
                DateTimeOffset.UtcNow, new JsonObject { ["Index"] = i }), default);
            var due = outage * (i + 1) / events;
            if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
        }
        if (clock.Elapsed < outage) await Task.Delay(outage - clock.Elapsed);
        await endOutage(bench);
        var ended = clock.Elapsed;
        while (bench.Klaviyo.EventsOf(KlaviyoMetrics.ClickedLineMessage).Count < events && clock.Elapsed < ended + TimeSpan.FromMinutes(5))
            await Task.Delay(200);
        var catchUp = clock.Elapsed - ended;
        await Task.Delay(TimeSpan.FromSeconds(2)); // let the state watcher see the last state
        watching.Cancel();
        await watcher;

        var parked = (await bench.Admin.GetFromJsonAsync<JsonArray>($"api/manage/workspaces/{bench.WorkspaceId}/klaviyo-events/parked"))!.Count;
        return new Result(name, events, bench.Klaviyo.EventsOf(KlaviyoMetrics.ClickedLineMessage).Select(e => e.UniqueId).Distinct().Count(),
            Interlocked.Read(ref bench.Klaviyo.DuplicateEventsIgnored), parked, states, catchUp);
    }

    private static async Task WatchStatesAsync(BenchWorkspace bench, List<string> states, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var status = (await bench.Admin.GetFromJsonAsync<JsonObject>($"api/manage/workspaces/{bench.WorkspaceId}", stop))!["klaviyo"]!["connection"]!["status"]!.GetValue<string>();
                if (states.Count == 0 || states[^1] != status) states.Add(status);
                await Task.Delay(500, stop);
            }
            catch (OperationCanceledException) { return; }
        }
    }
}
