using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.KlaviyoEvents;

/// <summary>An event waiting in the outbox (or parked), with the size it adds to a bulk request.</summary>
public sealed record OutboxEntry(string Key, KlaviyoEvent Event, int Size, string? ParkedReason = null, DateTimeOffset? ParkedAt = null);

/// <summary>
/// Durable queue of events bound for Klaviyo, per workspace (one Klaviyo account, one rate limit), spread over
/// <see cref="Shards"/> partitions so that no single partition becomes the bottleneck (Azure Tables serve about
/// 2,000 entities/s per partition). The row key is a hash of profile, metric and unique_id: recording the same
/// event twice leaves one row. Rows leave only after Klaviyo accepted them, or into the parked table (one
/// partition per workspace), where an administrator can replay them.
/// </summary>
public sealed class KlaviyoEventOutbox(LumoTables tables)
{
    public const int Shards = 16;

    public async Task AddAsync(KlaviyoEvent e, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.KlaviyoEventOutbox, cancellationToken);
        await table.UpsertEntityAsync(ToEntity(e, KeyOf(e)), TableUpdateMode.Replace, cancellationToken);
    }

    private static string ShardOf(string workspaceId, string key) => $"{workspaceId}~{key[0]}";

    private static IEnumerable<string> ShardsOf(string workspaceId) => Enumerable.Range(0, Shards).Select(i => $"{workspaceId}~{i:X1}");

    /// <summary>Adds many events at once, in entity-group transactions of up to 100 per workspace.</summary>
    public async Task AddManyAsync(IEnumerable<KlaviyoEvent> events, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.KlaviyoEventOutbox, cancellationToken);
        await Task.WhenAll(events.DistinctBy(e => (e.WorkspaceId, KeyOf(e))).Select(e => ToEntity(e, KeyOf(e))).GroupBy(e => e.PartitionKey)
            .Select(shard => InBatchesAsync(table, shard.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), cancellationToken)));
    }

    /// <summary>
    /// Pending events of a workspace, at most <paramref name="maxEvents"/> and <paramref name="maxBytes"/>, taken
    /// shard by shard starting at a different shard each time so that every shard keeps moving.
    /// </summary>
    public async Task<List<OutboxEntry>> TakeAsync(string workspaceId, int maxEvents, int maxBytes, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.KlaviyoEventOutbox, cancellationToken);
        var result = new List<OutboxEntry>();
        var bytes = 0;
        var start = Random.Shared.Next(Shards);
        foreach (var partition in ShardsOf(workspaceId).Skip(start).Concat(ShardsOf(workspaceId).Take(start)))
        {
            // Page by page, so that a full batch never costs a look at the page after it.
            await foreach (var page in table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, maxPerPage: Math.Min(maxEvents - result.Count, 1000), cancellationToken: cancellationToken).AsPages())
            {
                foreach (var entry in page.Values.Select(ToEntry))
                {
                    if (result.Count >= maxEvents || bytes + entry.Size > maxBytes) return result;
                    result.Add(entry);
                    bytes += entry.Size;
                }
                if (result.Count >= maxEvents) return result;
            }
        }
        return result;
    }

    public async Task<bool> HasPendingAsync(string workspaceId, CancellationToken cancellationToken) =>
        (await TakeAsync(workspaceId, 1, int.MaxValue, cancellationToken)).Count > 0;

    public async Task RemoveAsync(string workspaceId, IEnumerable<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.KlaviyoEventOutbox, cancellationToken);
        await Task.WhenAll(entries.GroupBy(e => ShardOf(workspaceId, e.Key)).Select(shard => InBatchesAsync(table,
            shard.Select(e => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(shard.Key, e.Key), ETag.All)), cancellationToken)));
    }

    /// <summary>Moves events to the parked table with the reason Klaviyo gave (or that we gave up).</summary>
    public async Task ParkAsync(string workspaceId, IReadOnlyCollection<OutboxEntry> entries, string reason, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var parked = await tables.GetAsync(TableNames.KlaviyoEventsParked, cancellationToken);
        await InBatchesAsync(parked, entries.Select(e =>
        {
            var entity = ToEntity(e.Event, e.Key, workspaceId);
            entity["ParkedReason"] = reason.Length > 2000 ? reason[..2000] : reason;
            entity["ParkedAt"] = at;
            return new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity);
        }), cancellationToken);
        await RemoveAsync(workspaceId, entries, cancellationToken);
    }

    public async Task<List<OutboxEntry>> ListParkedAsync(string workspaceId, int max, CancellationToken cancellationToken)
    {
        var parked = await tables.GetAsync(TableNames.KlaviyoEventsParked, cancellationToken);
        var result = new List<OutboxEntry>();
        await foreach (var row in parked.QueryAsync<TableEntity>(e => e.PartitionKey == workspaceId, cancellationToken: cancellationToken))
        {
            if (result.Count >= max) break;
            result.Add(ToEntry(row));
        }
        return result;
    }

    /// <summary>Puts parked events back into the outbox; returns how many.</summary>
    public async Task<int> ReplayParkedAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var parked = await tables.GetAsync(TableNames.KlaviyoEventsParked, cancellationToken);
        var outbox = await tables.GetAsync(TableNames.KlaviyoEventOutbox, cancellationToken);
        var entries = new List<OutboxEntry>();
        await foreach (var row in parked.QueryAsync<TableEntity>(e => e.PartitionKey == workspaceId, cancellationToken: cancellationToken))
            entries.Add(ToEntry(row));
        // Into the outbox first, then out of the parked table: a crash in between leaves a copy, never a loss.
        await AddManyAsync(entries.Select(e => e.Event), cancellationToken);
        await InBatchesAsync(parked, entries.Select(e => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(workspaceId, e.Key), ETag.All)), cancellationToken);
        return entries.Count;
    }

    public static string KeyOf(KlaviyoEvent e) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{e.ProfileId}\n{e.Metric}\n{e.UniqueId}")))[..40];

    // Entity-group transactions take at most 100 actions of one partition; independent groups go in parallel.
    private static Task InBatchesAsync(TableClient table, IEnumerable<TableTransactionAction> actions, CancellationToken cancellationToken) =>
        Task.WhenAll(actions.Chunk(100).Select(chunk => table.SubmitTransactionAsync(chunk, cancellationToken)));

    /// <summary>An outbox row (sharded partition), or a parked row when <paramref name="partition"/> is given.</summary>
    private static TableEntity ToEntity(KlaviyoEvent e, string key, string? partition = null) => new(partition ?? ShardOf(e.WorkspaceId, key), key)
    {
        ["ProfileId"] = e.ProfileId,
        ["Metric"] = e.Metric,
        ["UniqueId"] = e.UniqueId,
        ["Time"] = e.Time,
        ["Properties"] = e.Properties.ToJsonString(),
    };

    private static OutboxEntry ToEntry(TableEntity row)
    {
        var properties = row.GetString("Properties") ?? "{}";
        var e = new KlaviyoEvent(row.PartitionKey.Split('~')[0], row.GetString("ProfileId"), row.GetString("Metric"), row.GetString("UniqueId"),
            row.GetDateTimeOffset("Time") ?? DateTimeOffset.UnixEpoch, JsonNode.Parse(properties)!.AsObject());
        // What the event adds to a bulk request body: its properties plus the JSON:API wrapping around them.
        return new OutboxEntry(row.RowKey, e, properties.Length + e.Metric.Length + e.UniqueId.Length + e.ProfileId.Length + 300,
            row.GetString("ParkedReason"), row.GetDateTimeOffset("ParkedAt"));
    }
}
