using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.KlaviyoEvents;

/// <summary>An event waiting in the outbox (or parked), with the size it adds to a bulk request.</summary>
public sealed record OutboxEntry(string Key, KlaviyoEvent Event, int Size, string? ParkedReason = null, DateTimeOffset? ParkedAt = null)
{
    /// <summary>The outbox row that holds this event (null for parked events).</summary>
    internal OutboxRow? Row { get; init; }
}

/// <summary>One outbox row and the events in it that have not left yet (the exporter trims it as batches go out).</summary>
internal sealed class OutboxRow(string partitionKey, string rowKey, List<OutboxEntry> remaining)
{
    public string PartitionKey { get; } = partitionKey;
    public string RowKey { get; } = rowKey;
    public List<OutboxEntry> Remaining { get; } = remaining;
}

/// <summary>
/// Durable queue of events bound for Klaviyo, per workspace (one Klaviyo account, one rate limit), spread over
/// <see cref="Shards"/> partitions so that no single partition becomes the bottleneck (Azure Tables serve about
/// 2,000 entities/s per partition). A row holds the events of one group commit (<see cref="OutboxGroupCommit"/>):
/// events recorded while the previous write was in flight share the next row, so a busy workspace writes, and later
/// deletes, far fewer rows than events. Rows leave only after Klaviyo accepted their events, or their events move
/// to the parked table (one row per event, one partition per workspace), where an administrator can replay them.
/// Every event carries its deterministic unique_id, so an event recorded twice is sent once per batch and
/// Klaviyo ignores any later copy.
/// </summary>
public sealed class KlaviyoEventOutbox
{
    public const int Shards = 16;
    /// <summary>Events per row, and the JSON characters per row (Azure Tables: 1 MiB per entity, 64 KiB per string).</summary>
    public const int MaxEventsPerRow = 100;
    private const int MaxCharsPerRow = 200_000;
    private const int CharsPerColumn = 30_000;

    private readonly LumoTables _tables;
    private readonly OutboxGroupCommit _groupCommit;

    public KlaviyoEventOutbox(LumoTables tables)
    {
        _tables = tables;
        _groupCommit = new OutboxGroupCommit(WriteRowsAsync, MaxEventsPerRow);
    }

    /// <summary>Durably adds one event; returns once it is stored (possibly in a row shared with concurrent callers).</summary>
    public Task AddAsync(KlaviyoEvent e, CancellationToken cancellationToken) => _groupCommit.AddAsync(e, cancellationToken);

    /// <summary>Adds many events at once, packed into as few rows as the row limits allow.</summary>
    public Task AddManyAsync(IEnumerable<KlaviyoEvent> events, CancellationToken cancellationToken) =>
        Task.WhenAll(events.GroupBy(e => e.WorkspaceId).Select(workspace => WriteRowsAsync(workspace.ToList(), cancellationToken)));

    private async Task WriteRowsAsync(IReadOnlyList<KlaviyoEvent> events, CancellationToken cancellationToken)
    {
        var table = await _tables.GetAsync(TableNames.KlaviyoEventOutbox, cancellationToken);
        await Task.WhenAll(Pack(events).Select(row => table.AddEntityAsync(row, cancellationToken)));
    }

    private static IEnumerable<TableEntity> Pack(IReadOnlyList<KlaviyoEvent> events)
    {
        var row = new List<string>();
        var chars = 0;
        foreach (var json in events.DistinctBy(KeyOf).Select(Serialize))
        {
            if (row.Count > 0 && (row.Count == MaxEventsPerRow || chars + json.Length > MaxCharsPerRow))
            {
                yield return ToRow(events[0].WorkspaceId, row);
                (row, chars) = ([], 0);
            }
            row.Add(json);
            chars += json.Length;
        }
        if (row.Count > 0) yield return ToRow(events[0].WorkspaceId, row);
    }

    private static string ShardOf(string workspaceId, string rowKey) => $"{workspaceId}~{rowKey[0]}";

    private static IEnumerable<string> ShardsOf(string workspaceId) => Enumerable.Range(0, Shards).Select(i => $"{workspaceId}~{i:X1}");

    /// <summary>
    /// Pending events of a workspace, at most <paramref name="maxEvents"/> and <paramref name="maxBytes"/>, taken
    /// shard by shard starting at a different shard each time so that every shard keeps moving. A batch may end in
    /// the middle of a row; <see cref="RemoveAsync"/> then keeps the rest of that row. Rows are read a few at a time,
    /// sized by the events per row seen so far, so that memory follows the batch, not the backlog (a row holds up
    /// to <see cref="MaxEventsPerRow"/> events).
    /// </summary>
    public async Task<List<OutboxEntry>> TakeAsync(string workspaceId, int maxEvents, int maxBytes, CancellationToken cancellationToken)
    {
        var table = await _tables.GetAsync(TableNames.KlaviyoEventOutbox, cancellationToken);
        var result = new List<OutboxEntry>();
        var (bytes, rowsRead, eventsRead) = (0, 0, 0);
        var start = Random.Shared.Next(Shards);
        foreach (var partition in ShardsOf(workspaceId).Skip(start).Concat(ShardsOf(workspaceId).Take(start)))
        {
            string? continuation = null;
            do
            {
                var eventsPerRow = rowsRead == 0 ? MaxEventsPerRow : Math.Max(1, eventsRead / rowsRead);
                var rows = Math.Clamp((maxEvents - result.Count + eventsPerRow - 1) / eventsPerRow, 1, 1000);
                var page = await table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, maxPerPage: rows, cancellationToken: cancellationToken)
                    .AsPages(continuation, rows).FirstOrDefaultAsync(cancellationToken);
                if (page is null) break;
                foreach (var row in page.Values)
                {
                    var entries = FromRow(row).ToList();
                    (rowsRead, eventsRead) = (rowsRead + 1, eventsRead + entries.Count);
                    foreach (var entry in entries)
                    {
                        if (result.Count >= maxEvents || bytes + entry.Size > maxBytes) return result;
                        result.Add(entry);
                        bytes += entry.Size;
                    }
                }
                if (result.Count >= maxEvents) return result;
                continuation = page.ContinuationToken;
            } while (continuation is not null);
        }
        return result;
    }

    public async Task<bool> HasPendingAsync(string workspaceId, CancellationToken cancellationToken) =>
        (await TakeAsync(workspaceId, 1, int.MaxValue, cancellationToken)).Count > 0;

    /// <summary>
    /// Takes events (from <see cref="TakeAsync"/>) out of the outbox: a row whose events have all left is deleted,
    /// a row with events still waiting is rewritten with just those.
    /// </summary>
    public async Task RemoveAsync(string workspaceId, IEnumerable<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        var table = await _tables.GetAsync(TableNames.KlaviyoEventOutbox, cancellationToken);
        var actions = new List<TableTransactionAction>();
        foreach (var row in entries.GroupBy(e => e.Row ?? throw new ArgumentException("Only events taken from the outbox can be removed.", nameof(entries))))
        {
            var leaving = row.Select(e => e.Key).ToHashSet();
            row.Key.Remaining.RemoveAll(e => leaving.Contains(e.Key));
            actions.Add(row.Key.Remaining.Count == 0
                ? new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(row.Key.PartitionKey, row.Key.RowKey), ETag.All)
                : new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToRow(row.Key.PartitionKey, row.Key.RowKey, row.Key.Remaining.Select(e => Serialize(e.Event)))));
        }
        await Task.WhenAll(actions.GroupBy(a => a.Entity.PartitionKey).Select(shard => InBatchesAsync(table, shard, cancellationToken)));
    }

    /// <summary>Moves events to the parked table with the reason Klaviyo gave (or that we gave up).</summary>
    public async Task ParkAsync(string workspaceId, IReadOnlyCollection<OutboxEntry> entries, string reason, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var parked = await _tables.GetAsync(TableNames.KlaviyoEventsParked, cancellationToken);
        await InBatchesAsync(parked, entries.DistinctBy(e => e.Key).Select(e =>
        {
            var entity = ToParkedEntity(e.Event, e.Key, workspaceId);
            entity["ParkedReason"] = reason.Length > 2000 ? reason[..2000] : reason;
            entity["ParkedAt"] = at;
            return new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity);
        }), cancellationToken);
        await RemoveAsync(workspaceId, entries, cancellationToken);
    }

    public async Task<List<OutboxEntry>> ListParkedAsync(string workspaceId, int max, CancellationToken cancellationToken)
    {
        var parked = await _tables.GetAsync(TableNames.KlaviyoEventsParked, cancellationToken);
        var result = new List<OutboxEntry>();
        await foreach (var row in parked.QueryAsync<TableEntity>(e => e.PartitionKey == workspaceId, cancellationToken: cancellationToken))
        {
            if (result.Count >= max) break;
            result.Add(FromParkedRow(row));
        }
        return result;
    }

    /// <summary>Puts parked events back into the outbox, a page at a time; returns how many.</summary>
    public async Task<int> ReplayParkedAsync(string workspaceId, CancellationToken cancellationToken)
    {
        const int PageSize = 1_000;
        var parked = await _tables.GetAsync(TableNames.KlaviyoEventsParked, cancellationToken);
        var replayed = 0;
        while (true)
        {
            // Always the first page: the rows of the previous page are gone by now.
            var page = await parked.QueryAsync<TableEntity>(e => e.PartitionKey == workspaceId, maxPerPage: PageSize, cancellationToken: cancellationToken)
                .AsPages(null, PageSize).FirstOrDefaultAsync(cancellationToken);
            var entries = page?.Values.Select(FromParkedRow).ToList() ?? [];
            if (entries.Count == 0) return replayed;
            // Into the outbox first, then out of the parked table: a crash in between leaves a copy, never a loss.
            await AddManyAsync(entries.Select(e => e.Event), cancellationToken);
            await InBatchesAsync(parked, entries.Select(e => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(workspaceId, e.Key), ETag.All)), cancellationToken);
            replayed += entries.Count;
        }
    }

    public static string KeyOf(KlaviyoEvent e) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{e.ProfileId}\n{e.Metric}\n{e.UniqueId}")))[..40];

    // Entity-group transactions take at most 100 actions of one partition; independent groups go in parallel.
    private static Task InBatchesAsync(TableClient table, IEnumerable<TableTransactionAction> actions, CancellationToken cancellationToken) =>
        Task.WhenAll(actions.Chunk(100).Select(chunk => table.SubmitTransactionAsync(chunk, cancellationToken)));

    private static TableEntity ToRow(string workspaceId, List<string> events)
    {
        var rowKey = Guid.NewGuid().ToString("N").ToUpperInvariant(); // random: spreads rows over the shards, named like ShardsOf
        return ToRow(ShardOf(workspaceId, rowKey), rowKey, events);
    }

    // The events as one JSON array, cut into columns because a string column holds at most 64 KiB.
    private static TableEntity ToRow(string partitionKey, string rowKey, IEnumerable<string> events)
    {
        var json = "[" + string.Join(",", events) + "]";
        var row = new TableEntity(partitionKey, rowKey);
        for (var (i, at) = (0, 0); at < json.Length; (i, at) = (i + 1, at + CharsPerColumn))
            row[$"Events{i}"] = json.Substring(at, Math.Min(CharsPerColumn, json.Length - at));
        return row;
    }

    private static IEnumerable<OutboxEntry> FromRow(TableEntity row)
    {
        var json = new StringBuilder();
        for (var i = 0; row.GetString($"Events{i}") is { } part; i++) json.Append(part);
        var workspaceId = row.PartitionKey.Split('~')[0];
        var entries = new List<OutboxEntry>();
        var outboxRow = new OutboxRow(row.PartitionKey, row.RowKey, entries);
        foreach (var stored in JsonSerializer.Deserialize<List<StoredEvent>>(json.ToString())!)
        {
            var e = new KlaviyoEvent(workspaceId, stored.ProfileId, stored.Metric, stored.UniqueId, stored.Time, stored.Properties);
            entries.Add(new OutboxEntry(KeyOf(e), e, SizeOf(e, stored.Properties.ToJsonString())) { Row = outboxRow });
        }
        return entries.ToList(); // a copy: the exporter trims Remaining while the batch is being built from it
    }

    private sealed record StoredEvent(string ProfileId, string Metric, string UniqueId, DateTimeOffset Time, JsonObject Properties);

    private static string Serialize(KlaviyoEvent e) => JsonSerializer.Serialize(new StoredEvent(e.ProfileId, e.Metric, e.UniqueId, e.Time, e.Properties));

    // What the event adds to a bulk request body: its properties plus the JSON:API wrapping around them.
    private static int SizeOf(KlaviyoEvent e, string properties) => properties.Length + e.Metric.Length + e.UniqueId.Length + e.ProfileId.Length + 300;

    private static TableEntity ToParkedEntity(KlaviyoEvent e, string key, string workspaceId) => new(workspaceId, key)
    {
        ["ProfileId"] = e.ProfileId,
        ["Metric"] = e.Metric,
        ["UniqueId"] = e.UniqueId,
        ["Time"] = e.Time,
        ["Properties"] = e.Properties.ToJsonString(),
    };

    private static OutboxEntry FromParkedRow(TableEntity row)
    {
        var properties = row.GetString("Properties") ?? "{}";
        var e = new KlaviyoEvent(row.PartitionKey, row.GetString("ProfileId"), row.GetString("Metric"), row.GetString("UniqueId"),
            row.GetDateTimeOffset("Time") ?? DateTimeOffset.UnixEpoch, JsonNode.Parse(properties)!.AsObject());
        return new OutboxEntry(row.RowKey, e, SizeOf(e, properties), row.GetString("ParkedReason"), row.GetDateTimeOffset("ParkedAt"));
    }
}
