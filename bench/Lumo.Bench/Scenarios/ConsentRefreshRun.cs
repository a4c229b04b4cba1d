using System.Diagnostics;
using Azure.Data.Tables;
using Lumo.Core.SyncData;
using Lumo.Core.Workspaces;
using Lumo.Sandbox;
using Lumo.Sandbox.Line;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// "Update LINE Consent Status" of an account with N stored friends (20 % linked), 2 % of whom blocked the account on
/// LINE without Lumo hearing of it: once with LINE's follower list, once friend by friend through the profile API
/// (an account that may not list its followers). Beside it, the floor of the follower-list run's storage work alone:
/// the follower IDs written in 100-row transactions, both partitions scanned, and the friends it changed replaced 100 to a transaction.
/// </summary>
public static class ConsentRefreshRun
{
    public sealed record Result(string Mode, int Friends, TimeSpan Elapsed, long LineRequests, long Throttled, long PeakExtraBytes, TimeSpan GcPause, SyncRun Run);

    public static async Task<(Result FollowerList, Result ProfileApi, TimeSpan Floor)> RunAsync(string storage, SandboxHost sandbox, Uri app, string prefix, int friends)
    {
        var tables = new TableServiceClient(storage);
        var list = await RunOnceAsync(storage, tables, sandbox, app, prefix, friends, followerListAvailable: true);
        var floor = await FloorAsync(tables, prefix, list.Bench, friends);
        list.Bench.Dispose();
        var profiles = await RunOnceAsync(storage, tables, sandbox, app, prefix, friends, followerListAvailable: false);
        profiles.Bench.Dispose();
        return (list.Result, profiles.Result, floor);
    }

    private static async Task<(Result Result, BenchWorkspace Bench)> RunOnceAsync(string storage, TableServiceClient tables, SandboxHost sandbox, Uri app, string prefix,
        int friends, bool followerListAvailable)
    {
        var bench = await BenchWorkspace.CreateAsync(app, sandbox, "Consent bench", "cr" + BenchWorkspace.Hex(3));
        bench.Channel.FollowerIdsAvailable = followerListAvailable;
        var (userIds, _) = await FriendSeed.SeedAsync(tables, prefix, sandbox, bench, friends, 0.2);
        foreach (var userId in userIds.Where((_, i) => i % 50 == 0)) bench.Channel.Friends[userId] = new Friendship(userId, Blocked: true);

        await using var services = BenchServices.Create(storage, sandbox, prefix);
        var account = (await services.GetRequiredService<WorkspaceStore>().GetAccountIfExistsAsync(bench.WorkspaceId, bench.AccountId, default))!;
        var refresh = services.GetRequiredService<ConsentRefresh>();

        var (endpoint, bucket) = followerListAvailable ? ("/v2/bot/followers/ids", "line:GET /v2/bot/followers/ids") : ("/v2/bot/profile/{userId}", "line:GET /v2/bot/profile/{userId}");
        var requestsBefore = sandbox.Requests.CountOf(bench.Channel.ChannelId, "GET", endpoint);
        var throttledBefore = sandbox.Limiter.Limited.GetValueOrDefault(bucket);
        var memory = new MemorySampler();
        var clock = Stopwatch.StartNew();
        var (queued, _) = await refresh.StartAsync(account, default);
        var run = await refresh.RunAsync(new ConsentRefreshRequest(bench.WorkspaceId, bench.AccountId, queued.Id), default);
        clock.Stop();
        await memory.DisposeAsync();
        return (new Result(followerListAvailable ? "follower list" : "profile API", friends, clock.Elapsed, sandbox.Requests.CountOf(bench.Channel.ChannelId, "GET", endpoint) - requestsBefore,
            sandbox.Limiter.Limited.GetValueOrDefault(bucket) - throttledBefore, memory.PeakExtraBytes, memory.GcPause, run!), bench);
    }

    private static async Task<TimeSpan> FloorAsync(TableServiceClient tables, string prefix, BenchWorkspace bench, int friends)
    {
        var scratch = tables.GetTableClient("floor" + BenchWorkspace.Hex(4));
        await scratch.CreateAsync();
        var ids = new List<string>(friends);
        await foreach (var row in tables.GetTableClient(prefix + "LineFriends").QueryAsync<TableEntity>(e => e.PartitionKey == $"{bench.WorkspaceId}:{bench.AccountId}", select: ["RowKey"]))
            ids.Add(row.RowKey);
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(ids.Chunk(100), new ParallelOptions { MaxDegreeOfParallelism = 10 }, async (batch, ct) =>
            await scratch.SubmitTransactionAsync(batch.Select(u => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("followers", u) { ["RunId"] = "r" })), ct));
        var friendTable = tables.GetTableClient(prefix + "LineFriends");
        var changed = new List<TableEntity>();
        await foreach (var row in friendTable.QueryAsync<TableEntity>(e => e.PartitionKey == $"{bench.WorkspaceId}:{bench.AccountId}"))
            if (row.GetString("FollowStatus") == "Blocked") changed.Add(row); // the friends the run changed
        await foreach (var _ in scratch.QueryAsync<TableEntity>(e => e.PartitionKey == "followers", select: ["RowKey"])) { }
        await Parallel.ForEachAsync(changed.Chunk(100), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (batch, ct) =>
            await friendTable.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.UpdateReplace, r, r.ETag)), ct));
        var elapsed = clock.Elapsed;
        await scratch.DeleteAsync();
        return elapsed;
    }
}
