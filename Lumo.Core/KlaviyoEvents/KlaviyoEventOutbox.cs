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
/// Durable queue of events bound for Klaviyo, one partition per workspace (one Klaviyo account, one rate limit).
/// The row key is a hash of profile, metric and unique_id: recording the same event twice leaves one row.
/// Rows leave only after Klaviyo accepted them, or into the parked table, where an administrator can replay them.
/// </summary>
public sealed class KlaviyoEventOutbox(LumoTables tables)
{
    public async Task AddAsync(KlaviyoEvent e, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.KlaviyoEventOutbox, cancellationToken);
        await table.UpsertEntityAsync(ToEntity(e, KeyOf(e)), TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>The oldest-keyed pending events of a workspace, at most <paramref name="maxEvents"/> and <paramref name="maxBytes"/>.</summary>
    public async Task<List<OutboxEntry>> TakeAsync(string workspaceId, int maxEvents, int maxBytes, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.KlaviyoEventOutbox, cancellationToken);
        var result = new List<OutboxEntry>();
        var bytes = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == workspaceId, maxPerPage: Math.Min(maxEvents, 1000), cancellationToken: cancellationToken))
        {
            var entry = ToEntry(row);
            if (result.Count >= maxEvents || bytes + entry.Size > maxBytes) break;
            result.Add(entry);
            bytes += entry.Size;
        }
        return result;
    }

    public async Task<bool> HasPendingAsync(string workspaceId, CancellationToken cancellationToken) =>
        (await TakeAsync(workspaceId, 1, int.MaxValue, cancellationToken)).Count > 0;

    public async Task RemoveAsync(string workspaceId, IEnumerable<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.KlaviyoEventOutbox, cancellationToken);
        await InBatchesAsync(table, workspaceId, entries.Select(e => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(workspaceId, e.Key), ETag.All)), cancellationToken);
    }

    /// <summary>Moves events to the parked table with the reason Klaviyo gave (or that we gave up).</summary>
    public async Task ParkAsync(string workspaceId, IReadOnlyCollection<OutboxEntry> entries, string reason, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var parked = await tables.GetAsync(TableNames.KlaviyoEventsParked, cancellationToken);
        await InBatchesAsync(parked, workspaceId, entries.Select(e =>
        {
            var entity = ToEntity(e.Event, e.Key);
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
        await InBatchesAsync(outbox, workspaceId, entries.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(e.Event, e.Key))), cancellationToken);
        await InBatchesAsync(parked, workspaceId, entries.Select(e => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(workspaceId, e.Key), ETag.All)), cancellationToken);
        return entries.Count;
    }

    public static string KeyOf(KlaviyoEvent e) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{e.ProfileId}\n{e.Metric}\n{e.UniqueId}")))[..40];

    // Entity-group transactions take at most 100 actions; independent groups go in parallel.
    private static Task InBatchesAsync(TableClient table, string partition, IEnumerable<TableTransactionAction> actions, CancellationToken cancellationToken) =>
        Task.WhenAll(actions.Chunk(100).Select(chunk => table.SubmitTransactionAsync(chunk, cancellationToken)));

    private static TableEntity ToEntity(KlaviyoEvent e, string key) => new(e.WorkspaceId, key)
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
        var e = new KlaviyoEvent(row.PartitionKey, row.GetString("ProfileId"), row.GetString("Metric"), row.GetString("UniqueId"),
            row.GetDateTimeOffset("Time") ?? DateTimeOffset.UnixEpoch, JsonNode.Parse(properties)!.AsObject());
        // What the event adds to a bulk request body: its properties plus the JSON:API wrapping around them.
        return new OutboxEntry(row.RowKey, e, properties.Length + e.Metric.Length + e.UniqueId.Length + e.ProfileId.Length + 300,
            row.GetString("ParkedReason"), row.GetDateTimeOffset("ParkedAt"));
    }
}
