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
    /// <summary><c>Floor</c>: the same per-friend storage work alone (one point read and one replace per linked friend, 16 at a time).</summary>
    public sealed record Result(string Name, int Profiles, DateTimeOffset Started, TimeSpan Elapsed, long PageRequests, long Throttled, long PeakExtraBytes, SyncRun Run, int ProfilesImported,
        int LinkedFriends, TimeSpan Floor);

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
        return new Result(name, profiles, started, clock.Elapsed, sandbox.Requests.CountOf(bench.Klaviyo.Id, "GET", "/api/profiles") - requestsBefore,
            sandbox.Limiter.Limited.GetValueOrDefault("klaviyo:profiles") - throttledBefore, memory.PeakExtraBytes, run!,
            bench.Klaviyo.ImportJobs.Values.Sum(j => j.Total), linkedFriends, await FloorAsync(friendTable, $"{bench.WorkspaceId}:{bench.AccountId}", userIds));
    }

    private static async Task<TimeSpan> FloorAsync(TableClient friendTable, string partition, List<string> userIds)
    {
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(userIds, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (userId, ct) =>
        {
            var row = (await friendTable.GetEntityAsync<TableEntity>(partition, userId, cancellationToken: ct)).Value;
            await friendTable.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);
        });
        return clock.Elapsed;
    }
}
