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
/// in bulk import jobs. Each is timed on its own, with the page requests the profiles endpoint's limits allowed in that time.
/// </summary>
public static class SyncDataRuns
{
    /// <summary>
    /// <c>ReadFloor</c>: one point read per linked friend alone, 16 at a time (the "Azurite read floor");
    /// <c>Floor</c>: the same friend work as the run's alone (those reads, then the friends replaced 100 to a transaction).
    /// </summary>
    public sealed record Result(string Name, int Profiles, DateTimeOffset Started, TimeSpan Elapsed, long PageRequests, long Throttled, long PeakExtraBytes, long HeldAfterBytes, TimeSpan GcPause, SyncRun Run, int ProfilesImported,
        int LinkedFriends, TimeSpan ReadFloor, TimeSpan Floor, TimeSpan? FirstImportJob);

    public static async Task<Result> PullAsync(string storage, SandboxHost sandbox, Uri app, string prefix, int profiles) =>
        await RunAsync(storage, sandbox, app, prefix, "Pull", linkedFriends: profiles / 5, profiles, resync: false);

    public static async Task<Result> ResyncAsync(string storage, SandboxHost sandbox, Uri app, string prefix, int linkedFriends) =>
        await RunAsync(storage, sandbox, app, prefix, "Resync", linkedFriends, linkedFriends, resync: true);

    private static async Task<Result> RunAsync(string storage, SandboxHost sandbox, Uri app, string prefix, string name, int linkedFriends, int profiles, bool resync)
    {
        using var bench = await BenchWorkspace.CreateAsync(app, sandbox, $"{name} bench", "sd" + BenchWorkspace.Hex(3));
        var tables = new TableServiceClient(storage);
        var (userIds, profileIds) = await FriendSeed.SeedAsync(tables, prefix, sandbox, bench, linkedFriends, 1.0, otherProfilesPerLinked: (profiles - linkedFriends) / linkedFriends);
        // As linking leaves them: the profile carries the friend's LINE properties, and the claim row names the friend.
        var friendTable = tables.GetTableClient(prefix + "LineFriends");
        await Parallel.ForEachAsync(userIds.Zip(profileIds).Chunk(100), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (batch, ct) =>
            await friendTable.SubmitTransactionAsync(batch.Select(p => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new TableEntity($"{bench.WorkspaceId}:{bench.AccountId}", "~profile:" + p.Second) { ["UserId"] = p.First })), ct));
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
        var clock = Stopwatch.StartNew();
        var runId = resync ? (await pull.StartResyncAsync(account, default)).Run.Id : null;
        var run = await pull.RunAsync(new KlaviyoPullRequest(bench.WorkspaceId, bench.AccountId, runId), default);
        clock.Stop();
        await memory.DisposeAsync();
        var partition = $"{bench.WorkspaceId}:{bench.AccountId}";
        var linkedPerPage = 100 * linkedFriends / profiles;
        var readFloor = await FloorAsync(friendTable, partition, userIds, linkedPerPage, replace: false);
        var floor = await FloorAsync(friendTable, partition, userIds, linkedPerPage, replace: true);
        return new Result(name, profiles, started, clock.Elapsed, sandbox.Requests.CountOf(bench.Klaviyo.Id, "GET", "/api/profiles") - requestsBefore,
            sandbox.Limiter.Limited.GetValueOrDefault("klaviyo:profiles") - throttledBefore, memory.PeakExtraBytes, memory.HeldAfterBytes, memory.GcPause, run!,
            bench.Klaviyo.ImportJobs.Values.Sum(j => j.Total), linkedFriends, readFloor, floor,
            bench.Klaviyo.ImportJobs.IsEmpty ? null : bench.Klaviyo.ImportJobs.Values.Min(j => j.CreatedAt) - started);
    }

    // In pages, four at a time, as the run applies them: each linked friend of a page read (16 at a time), then, with
    // replace, the page's friends replaced in one transaction.
    private static async Task<TimeSpan> FloorAsync(TableClient friendTable, string partition, List<string> userIds, int linkedPerPage, bool replace)
    {
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(userIds.Chunk(linkedPerPage), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (page, pageCt) =>
        {
            var read = new TableEntity[page.Length];
            await Parallel.ForEachAsync(Enumerable.Range(0, page.Length), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = pageCt }, async (i, ct) =>
                read[i] = (await friendTable.GetEntityAsync<TableEntity>(partition, page[i], cancellationToken: ct)).Value);
            if (replace) await friendTable.SubmitTransactionAsync(read.Select(r => new TableTransactionAction(TableTransactionActionType.UpdateReplace, r, r.ETag)), pageCt);
        });
        return clock.Elapsed;
    }
}
