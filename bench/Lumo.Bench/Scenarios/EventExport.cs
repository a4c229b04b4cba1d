using System.Diagnostics;
using System.Text.Json.Nodes;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;
using Lumo.Sandbox;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Klaviyo;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// Event export under faults: a backlog in the outbox drained into the sandbox's Bulk Create Events (which enforces
/// 10/s burst and 150/min steady and injects 5% 429/5xx), counting what arrived, twice, or not at all.
/// </summary>
public static class EventExport
{
    public sealed record Result(int Backlog, int Rows, TimeSpan Elapsed, int Recorded, int Distinct, int Parked, long DuplicatesIgnored, long Requests, long Throttled);

    public static async Task<Result> RunAsync(string storage, SandboxHost sandbox, int backlog)
    {
        const string workspaceId = "benchexport";
        var account = sandbox.Klaviyo.AddAccount("BenchExport", "pk_bench_export_0123456789", "Bench export");
        var profiles = Enumerable.Range(0, 1000).Select(_ => new SimulatedProfile(account.NewId())).ToList();
        lock (account.Gate) foreach (var p in profiles) account.Profiles[p.Id] = p;

        var services = FunctionApp.CoreServices(storage, "bx" + Guid.NewGuid().ToString("N")[..6], sandbox.BaseUrl);
        await services.GetRequiredService<ISecretStore>().SetAsync(SecretNames.KlaviyoApiKey(workspaceId), account.ApiKey);
        var outbox = services.GetRequiredService<KlaviyoEventOutbox>();
        // Recorded the way production records them: one event per call, 16 calls at a time (a queue batch), so
        // the outbox rows have the shape group commit gives them under load.
        await Parallel.ForEachAsync(Enumerable.Range(0, backlog), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await outbox.AddAsync(new KlaviyoEvent(workspaceId, profiles[i % profiles.Count].Id, KlaviyoMetrics.SentLineMessage, $"bench-{i}",
                DateTimeOffset.UtcNow, new JsonObject { ["Message"] = "bench", ["Index"] = i }), ct));
        var rows = await CountRowsAsync(services);

        sandbox.Faults.Add(new FaultRule { Vendor = "klaviyo", Caller = account.Id, TooManyRequestsRate = 0.025, ServerErrorRate = 0.025 });
        var requestsBefore = sandbox.Requests.CountOf(account.Id, "POST", "/api/event-bulk-create-jobs");
        var started = Stopwatch.StartNew();
        var parked = 0;
        while (await outbox.HasPendingAsync(workspaceId, default))
            parked += (await services.GetRequiredService<KlaviyoEventExporter>().ExportAsync(workspaceId, default)).Parked;
        started.Stop();
        sandbox.Faults.Remove(r => r.Caller == account.Id);

        var recorded = account.EventsOf(KlaviyoMetrics.SentLineMessage);
        return new Result(backlog, rows, started.Elapsed, recorded.Count, recorded.Select(e => e.UniqueId).Distinct().Count(), parked,
            account.DuplicateEventsIgnored, sandbox.Requests.CountOf(account.Id, "POST", "/api/event-bulk-create-jobs") - requestsBefore,
            sandbox.Limiter.Limited.GetValueOrDefault("klaviyo:event-bulk-create"));
    }

    private static async Task<int> CountRowsAsync(IServiceProvider services)
    {
        var table = await services.GetRequiredService<LumoTables>().GetAsync(TableNames.KlaviyoEventOutbox, default);
        var rows = 0;
        await foreach (var _ in table.QueryAsync<Azure.Data.Tables.TableEntity>(select: ["RowKey"])) rows++;
        return rows;
    }
}
