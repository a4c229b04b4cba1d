using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Lumo.Sandbox;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// A rich menu assigned to a segment of every friend of an account with N friends: the first sync links them all
/// (every membership changed), measured from the request to the sync's record; then a second sync with nothing
/// changed. Beside it, the floor of the same storage work alone: the friend partition scanned and one link row per
/// friend written in 100-row transactions.
/// </summary>
public static class RichMenuLinking
{
    public sealed record Result(int Friends, int Linked, TimeSpan Elapsed, TimeSpan Floor, long Requests, long UsersLineChanged, TimeSpan QuietSync, int QuietRequests);

    public static async Task<Result> RunAsync(string storage, SandboxHost sandbox, Uri app, string prefix, int friends)
    {
        using var bench = await BenchWorkspace.CreateAsync(app, sandbox, "Rich menu bench", "rm" + BenchWorkspace.Hex(3));
        var tables = new TableServiceClient(storage);
        await FriendSeed.SeedAsync(tables, prefix, sandbox, bench, friends, 0.2);
        var path = $"api/manage/workspaces/{bench.WorkspaceId}/accounts/{bench.AccountId}";
        var segment = (await (await bench.Admin.PostAsJsonAsync($"{path}/segments", new { name = "Followers", conditions = new { followStatus = "friend" } }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var created = await bench.Admin.PostAsJsonAsync($"{path}/rich-menus", new
        {
            name = "Members", chatBarText = "Menu", size = new { width = 2500, height = 843 },
            areas = new[] { new { bounds = new { x = 0, y = 0, width = 2500, height = 843 }, action = new { type = "uri", uri = "https://shop.example.com" } } },
            image = Convert.ToBase64String(PngHeader(2500, 843)),
        });
        created.EnsureSuccessStatusCode();
        var menuId = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        var requestsBefore = sandbox.Requests.CountOf(bench.Channel.ChannelId, "POST", "/v2/bot/richmenu/bulk/link");
        var clock = Stopwatch.StartNew();
        (await bench.Admin.PutAsJsonAsync($"{path}/rich-menus/{menuId}/assignment", new { segmentId = segment, priority = 1 })).EnsureSuccessStatusCode();
        var first = await WaitForSyncAsync(bench, path, run => run["linked"]!.GetValue<int>() > 0);
        var elapsed = clock.Elapsed;
        var requests = sandbox.Requests.CountOf(bench.Channel.ChannelId, "POST", "/v2/bot/richmenu/bulk/link") - requestsBefore;
        var changes = Interlocked.Read(ref bench.Channel.RichMenuUserChanges);

        var quiet = Stopwatch.StartNew();
        var startedBefore = DateTimeOffset.UtcNow;
        (await bench.Admin.PostAsync($"{path}/rich-menus/sync", null)).EnsureSuccessStatusCode();
        var second = await WaitForSyncAsync(bench, path, run => run["startedAt"]!.GetValue<DateTimeOffset>() >= startedBefore);
        var quietElapsed = quiet.Elapsed;

        return new Result(friends, first["linked"]!.GetValue<int>(), elapsed, await FloorAsync(tables, prefix, bench, friends), requests, changes,
            quietElapsed, second["requests"]!.GetValue<int>());
    }

    private static async Task<JsonObject> WaitForSyncAsync(BenchWorkspace bench, string path, Func<JsonObject, bool> done)
    {
        for (var i = 0; i < 6000; i++)
        {
            var response = await bench.Admin.GetAsync($"{path}/rich-menus/sync");
            if (response.StatusCode == System.Net.HttpStatusCode.OK && await response.Content.ReadFromJsonAsync<JsonObject>() is { } run && done(run)) return run;
            await Task.Delay(100);
        }
        throw new TimeoutException("The rich menu sync did not finish.");
    }

    private static async Task<TimeSpan> FloorAsync(TableServiceClient tables, string prefix, BenchWorkspace bench, int friends)
    {
        var scratch = tables.GetTableClient("floor" + BenchWorkspace.Hex(4));
        await scratch.CreateAsync();
        var clock = Stopwatch.StartNew();
        var ids = new List<string>(friends);
        await foreach (var row in tables.GetTableClient(prefix + "LineFriends").QueryAsync<TableEntity>(e => e.PartitionKey == $"{bench.WorkspaceId}:{bench.AccountId}"))
            ids.Add(row.RowKey);
        await Parallel.ForEachAsync(ids.Chunk(100), new ParallelOptions { MaxDegreeOfParallelism = 8 * 5 }, async (batch, ct) =>
            await scratch.SubmitTransactionAsync(batch.Select(u => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("links", u) { ["MenuId"] = "0123456789abcdef" })), ct));
        var elapsed = clock.Elapsed;
        await scratch.DeleteAsync();
        return elapsed;
    }

    // The sandbox, like LINE, checks an upload's type and pixel size, which a PNG names in its header; the bench sends
    // only the header (the pixels would be 2 MB of nothing).
    private static byte[] PngHeader(int width, int height)
    {
        var png = new byte[33];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' }.CopyTo(png, 0);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
        png[24] = 8;
        return png;
    }
}
