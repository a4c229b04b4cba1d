using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Lumo.Sandbox;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// A broadcast to a segment of every friend of an account with N friends (a share of them ID-linked, so Klaviyo events
/// are recorded too), measured from the admin's request to the last multicast LINE received. Beside it, in the same
/// run, the floor of the storage work one broadcast needs done without LINE, Klaviyo or any logic: the friend
/// partition scanned, the chunks written, each chunk read and updated as the sender does, the outbox rows written.
/// </summary>
public static class SegmentBroadcast
{
    public sealed record Result(int Friends, int Recipients, TimeSpan Elapsed, TimeSpan Floor, long Multicasts, long Pushes, int Duplicates, int Missing,
        long RetryKeyRepeats, string StorageBreakdown, double StorageRequestsPerRecipient, TimeSpan Prepared, TimeSpan FirstPush);

    public static async Task<Result> RunAsync(string storage, SandboxHost sandbox, Uri app, string prefix, int friends, double linkedShare, StorageOperations operations)
    {
        using var bench = await BenchWorkspace.CreateAsync(app, sandbox, "Broadcast bench", "bc" + BenchWorkspace.Hex(3));
        var (channel, klaviyo, workspaceId, accountId, admin) = bench;
        var tables = new TableServiceClient(storage);
        var (users, profiles) = await FriendSeed.SeedAsync(tables, prefix, sandbox, bench, friends, linkedShare);
        var friendTable = tables.GetTableClient(prefix + "LineFriends");
        var partition = $"{workspaceId}:{accountId}";
        var linked = profiles.Count;

        var segment = await (await admin.PostAsJsonAsync($"api/manage/workspaces/{workspaceId}/accounts/{accountId}/segments",
            new { name = "Every follower", conditions = new { followStatus = "friend" } })).Content.ReadFromJsonAsync<JsonObject>();

        var before = operations.Snapshot();
        var clock = Stopwatch.StartNew();
        var created = await admin.PostAsJsonAsync($"api/manage/workspaces/{workspaceId}/accounts/{accountId}/broadcasts",
            new { name = "Bench sale", text = "Bench sale starts now", segmentId = segment!["id"]!.GetValue<string>() });
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        // When preparation ended (status sending) and the first multicast arrived: where the time goes.
        TimeSpan? prepared = null, firstPush = null;
        while (channel.Pushes.Count < friends && clock.Elapsed < TimeSpan.FromMinutes(10))
        {
            await Task.Delay(20);
            firstPush ??= channel.Pushes.IsEmpty ? null : clock.Elapsed;
            if (prepared is null && (await admin.GetFromJsonAsync<JsonObject>($"api/manage/workspaces/{workspaceId}/accounts/{accountId}/broadcasts/{id}"))!["status"]!.GetValue<string>() is "sending" or "completed")
                prepared = clock.Elapsed;
        }
        var elapsed = clock.Elapsed;
        string status;
        do
        {
            status = (await admin.GetFromJsonAsync<JsonObject>($"api/manage/workspaces/{workspaceId}/accounts/{accountId}/broadcasts/{id}"))!["status"]!.GetValue<string>();
            if (status != "completed") await Task.Delay(200);
        } while (status != "completed" && clock.Elapsed < TimeSpan.FromMinutes(11));
        var breakdown = operations.PerUnit(before, friends / 1_000, out var perThousand);
        var perRecipient = perThousand / 1_000;

        var received = channel.Pushes.GroupBy(p => p.To).ToDictionary(g => g.Key, g => g.Count());
        var floor = await FloorAsync(tables, friendTable, partition, friends, linked);
        return new Result(friends, received.Count, elapsed, floor, sandbox.Requests.CountOf(channel.ChannelId, "POST", "/v2/bot/message/multicast"), channel.Pushes.Count,
            received.Values.Sum(n => n - 1), users.Count(u => !received.ContainsKey(u)), Interlocked.Read(ref channel.RetryKeyRepeats), breakdown, perRecipient,
            prepared ?? elapsed, firstPush ?? elapsed);
    }

    // The storage work alone, at the concurrency the app uses: scan the friends; write 500-recipient chunks 40 to a
    // transaction; per chunk two point reads, three replaces and a filtered query; two events per linked recipient in
    // 100-event outbox rows.
    private static async Task<TimeSpan> FloorAsync(TableServiceClient tables, TableClient friendTable, string partition, int friends, int linked)
    {
        var chunkTable = tables.GetTableClient("floor" + BenchWorkspace.Hex(4));
        await chunkTable.CreateAsync();
        var clock = Stopwatch.StartNew();
        var ids = new List<string>(friends);
        await foreach (var row in friendTable.QueryAsync<TableEntity>(e => e.PartitionKey == partition)) ids.Add(row.RowKey);
        var chunks = ids.Chunk(500).Select((c, n) => new TableEntity("chunks", n.ToString("D5"))
        {
            ["UserIds"] = string.Join(',', c), ["ProfileIds"] = new string(',', c.Length - 1), ["Count"] = c.Length, ["Status"] = "Pending",
        }).ToList();
        await Task.WhenAll(chunks.Chunk(40).Select(b => chunkTable.SubmitTransactionAsync(b.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)))));
        await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = 24 }, async (chunk, ct) =>
        {
            await chunkTable.GetEntityAsync<TableEntity>("chunks", chunk.RowKey, cancellationToken: ct);
            var read = await chunkTable.GetEntityAsync<TableEntity>("chunks", chunk.RowKey, cancellationToken: ct);
            var etag = read.Value.ETag;
            for (var i = 0; i < 3; i++) etag = (await chunkTable.UpdateEntityAsync(read.Value, etag, TableUpdateMode.Replace, ct)).Headers.ETag!.Value;
            await foreach (var _ in chunkTable.QueryAsync<TableEntity>("PartitionKey eq 'chunks' and Status eq 'Pending'", maxPerPage: 1, cancellationToken: ct)) break;
        });
        var outboxRows = (2 * linked + 99) / 100;
        await Parallel.ForEachAsync(Enumerable.Range(0, outboxRows), new ParallelOptions { MaxDegreeOfParallelism = 24 }, async (i, ct) =>
            await chunkTable.AddEntityAsync(new TableEntity("outbox" + i % 16, i.ToString("D8")) { ["Events"] = new string('e', 30_000) }, ct));
        var elapsed = clock.Elapsed;
        await chunkTable.DeleteAsync();
        return elapsed;
    }
}
