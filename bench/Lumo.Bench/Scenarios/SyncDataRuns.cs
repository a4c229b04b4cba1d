using System.Diagnostics;
using Azure.Data.Tables;
using Lumo.Core.SyncData;
using Lumo.Core.Workspaces;
using Lumo.Sandbox;
using Lumo.Sandbox.Klaviyo;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// Sync Data against the sandbox's Klaviyo limits. Pull: N changed profiles, a fifth of them linked to friends (every
/// fifth profile), with <c>first_name</c> pulled. Resync: N linked friends, every profile read again and every friend's properties written
/// in bulk import jobs, once with <c>first_name</c> new on every friend (just chosen) and once with it already pulled (the profiles
/// "updated" since by Lumo's own LINE property writes). Each is timed on its own, with the page requests the profiles endpoint's limits
/// allowed in that time.
/// </summary>
public static class SyncDataRuns
{
    /// <summary>
    /// <c>ReadFloor</c>: one point read per linked friend alone, 16 at a time (the "Azurite read floor");
    /// <c>Floor</c>: the same friend work as the run's alone (those reads, then — where the fields are new — the friends' fields
    /// merged 100 to a transaction).
    /// </summary>
    public sealed record Result(string Name, int Profiles, DateTimeOffset Started, TimeSpan Elapsed, long PageRequests, long Throttled, long PeakExtraBytes, long HeldAfterBytes, TimeSpan GcPause, SyncRun Run, int ProfilesImported,
        int LinkedFriends, TimeSpan ReadFloor, TimeSpan Floor, TimeSpan? FirstImportJob, CpuTimes Cpu, CpuTimes ReadFloorCpu);

    public static async Task<Result> PullAsync(string storage, SandboxHost sandbox, Uri app, string prefix, int profiles) =>
        await RunAsync(storage, sandbox, app, prefix, "Pull", linkedFriends: profiles / 5, profiles, resync: false, fieldsAlreadyPulled: false);

    public static async Task<Result> ResyncAsync(string storage, SandboxHost sandbox, Uri app, string prefix, int linkedFriends, bool fieldsAlreadyPulled) =>
        await RunAsync(storage, sandbox, app, prefix, fieldsAlreadyPulled ? "Resync, first_name already pulled" : "Resync, first_name new on every friend", linkedFriends,
            linkedFriends, resync: true, fieldsAlreadyPulled);

    private static async Task<Result> RunAsync(string storage, SandboxHost sandbox, Uri app, string prefix, string name, int linkedFriends, int profiles, bool resync,
        bool fieldsAlreadyPulled)
    {
        using var bench = await BenchWorkspace.CreateAsync(app, sandbox, $"{name} bench", "sd" + BenchWorkspace.Hex(3));
        var tables = new TableServiceClient(storage);
        var (userIds, profileIds) = await FriendSeed.SeedAsync(tables, prefix, sandbox, bench, linkedFriends, 1.0, otherProfilesPerLinked: (profiles - linkedFriends) / linkedFriends);
        // As linking leaves them: the profile carries the friend's LINE properties, and the claim row names the friend;
        // and, where the fields are already pulled, as an earlier pull left the friend.
        var friendTable = tables.GetTableClient(prefix + "LineFriends");
        var partition = $"{bench.WorkspaceId}:{bench.AccountId}";
        var pulledAt = DateTimeOffset.UtcNow.AddHours(-1);
        await Parallel.ForEachAsync(userIds.Zip(profileIds).Chunk(50), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (batch, ct) =>
            await friendTable.SubmitTransactionAsync(batch.SelectMany(p => new[]
            {
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partition, "~profile:" + p.Second) { ["UserId"] = p.First }),
                fieldsAlreadyPulled
                    ? new TableTransactionAction(TableTransactionActionType.UpdateMerge, new TableEntity(partition, p.First) { ["KlaviyoFields"] = """{"first_name":"Fan"}""", ["KlaviyoFieldsUpdatedAt"] = pulledAt })
                    : null,
            }.OfType<TableTransactionAction>()), ct));
        lock (bench.Klaviyo.Gate)
        {
            foreach (var ((userId, profileId), i) in userIds.Zip(profileIds).Select((p, i) => (p, i)))
            {
                var properties = bench.Klaviyo.Profiles[profileId].Properties;
                properties["LINE User ID"] = userId;
                properties["LINE Display Name"] = $"Fan {i}";
                properties["LINE Follow Status"] = "friend";
                properties["LINE Consent"] = "granted";
            }
            foreach (var profile in bench.Klaviyo.Profiles.Values)
            {
                profile.Standard["first_name"] = "Fan";
                profile.Updated = DateTimeOffset.UtcNow;
            }
        }

        await using var services = BenchServices.Create(storage, sandbox, prefix);
        var workspaces = services.GetRequiredService<WorkspaceStore>();
        var account = (await workspaces.GetAccountIfExistsAsync(bench.WorkspaceId, bench.AccountId, default))!;
        account = await workspaces.UpdateAccountAsync(account with { PulledFields = ["first_name"] }, default);
        var pull = services.GetRequiredService<KlaviyoProfilePull>();
        pull.RunBudget = TimeSpan.FromHours(1);

        var requestsBefore = sandbox.Requests.CountOf(bench.Klaviyo.Id, "GET", "/api/profiles");
        var throttledBefore = sandbox.Limiter.Limited.GetValueOrDefault("klaviyo:profiles");
        var memory = new MemorySampler();
        var started = DateTimeOffset.UtcNow;
        var cpuBefore = CpuTimes.Now();
        var clock = Stopwatch.StartNew();
        var runId = resync ? (await pull.StartResyncAsync(account, default)).Run.Id : null;
        var run = await pull.RunAsync(new KlaviyoPullRequest(bench.WorkspaceId, bench.AccountId, runId), default);
        clock.Stop();
        var cpu = CpuTimes.Now().Since(cpuBefore);
        await memory.DisposeAsync();
        var linkedPerPage = 100 * linkedFriends / profiles;
        var floorCpuBefore = CpuTimes.Now();
        var readFloor = await FloorAsync(friendTable, partition, userIds, linkedPerPage, write: false);
        var readFloorCpu = CpuTimes.Now().Since(floorCpuBefore);
        var floor = fieldsAlreadyPulled ? readFloor : await FloorAsync(friendTable, partition, userIds, linkedPerPage, write: true);
        return new Result(name, profiles, started, clock.Elapsed, sandbox.Requests.CountOf(bench.Klaviyo.Id, "GET", "/api/profiles") - requestsBefore,
            sandbox.Limiter.Limited.GetValueOrDefault("klaviyo:profiles") - throttledBefore, memory.PeakExtraBytes, memory.HeldAfterBytes, memory.GcPause, run!,
            bench.Klaviyo.ImportJobs.Values.Sum(j => j.Total), linkedFriends, readFloor, floor,
            bench.Klaviyo.ImportJobs.IsEmpty ? null : bench.Klaviyo.ImportJobs.Values.Min(j => j.CreatedAt) - started, cpu, readFloorCpu);
    }

    // In pages, four at a time, as the run applies them: each linked friend of a page read (16 at a time), then, with
    // write, the page's friends' two pulled-field properties merged in one transaction.
    private static async Task<TimeSpan> FloorAsync(TableClient friendTable, string partition, List<string> userIds, int linkedPerPage, bool write)
    {
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(userIds.Chunk(linkedPerPage), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (page, pageCt) =>
        {
            var read = new TableEntity[page.Length];
            await Parallel.ForEachAsync(Enumerable.Range(0, page.Length), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = pageCt }, async (i, ct) =>
                read[i] = (await friendTable.GetEntityAsync<TableEntity>(partition, page[i], cancellationToken: ct)).Value);
            if (write)
                await friendTable.SubmitTransactionAsync(read.Select(r => new TableTransactionAction(TableTransactionActionType.UpdateMerge,
                    new TableEntity(partition, r.RowKey) { ["KlaviyoFields"] = """{"first_name":"Floor"}""", ["KlaviyoFieldsUpdatedAt"] = DateTimeOffset.UtcNow }, r.ETag)), pageCt);
        });
        return clock.Elapsed;
    }
}
