using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.Broadcasts;

/// <summary>
/// How far a broadcast has got, summed over its chunks: recipients and chunks sent, failed and pending, and when a
/// chunk was last attempted or sent (<c>LastActivityAt</c>, null before the first).
/// </summary>
public sealed record BroadcastProgress(int Sent, int Failed, int Pending, int ChunksSent, int ChunksFailed, int ChunksPending, DateTimeOffset? LastActivityAt = null);

/// <summary>
/// Broadcasts: table Broadcasts, one partition per LINE account (<see cref="AccountPartition"/>), one row per
/// broadcast, changed only over its ETag (status moves are compare-and-swap). Their recipients: table
/// BroadcastChunks, one partition per preparation of a broadcast (<c>{workspace}:{account}:{broadcast}:{preparation}</c>),
/// one row per chunk of up to 500 recipients, row key the chunk number (5 digits, so they sort).
/// </summary>
public sealed class BroadcastStore(LumoTables tables)
{
    // A chunk row is at most ~60 KB (500 user ids and profile ids); 40 of them stay under a transaction's 4 MB.
    private const int ChunksPerTransaction = 40;

    public async Task<Broadcast?> GetIfExistsAsync(string workspaceId, string accountId, string id, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Broadcasts, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(AccountPartition.Of(workspaceId, accountId), id, cancellationToken: cancellationToken);
        return row.HasValue ? ToBroadcast(row.Value!) : null;
    }

    public async Task<List<Broadcast>> ListAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Broadcasts, cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        var result = new List<Broadcast>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, cancellationToken: cancellationToken))
            result.Add(ToBroadcast(row));
        return result.OrderByDescending(b => b.ScheduledAt).ToList();
    }

    /// <summary>
    /// Across all accounts: scheduled broadcasts whose time has come, preparations started before
    /// <paramref name="preparingSince"/> (their preparer may have died, or is to try again), and every broadcast that
    /// is sending (for the caller to see whether it stalled).
    /// </summary>
    public async Task<List<Broadcast>> ListDueAsync(DateTimeOffset now, DateTimeOffset preparingSince, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Broadcasts, cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"(Status eq {nameof(BroadcastStatus.Scheduled)} and ScheduledAt le {now}) or (Status eq {nameof(BroadcastStatus.Preparing)} and StartedAt le {preparingSince}) or Status eq {nameof(BroadcastStatus.Sending)}");
        var result = new List<Broadcast>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            result.Add(ToBroadcast(row));
        return result;
    }

    public async Task<Broadcast> AddAsync(Broadcast broadcast, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Broadcasts, cancellationToken);
        var response = await table.AddEntityAsync(ToEntity(broadcast), cancellationToken);
        return broadcast with { ETag = response.Headers.ETag?.ToString() };
    }

    /// <summary>Saves the broadcast if nobody changed it since it was read (its ETag); null when someone did.</summary>
    public async Task<Broadcast?> TryUpdateAsync(Broadcast broadcast, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Broadcasts, cancellationToken);
        try
        {
            var response = await table.UpdateEntityAsync(ToEntity(broadcast), new ETag(broadcast.ETag!), TableUpdateMode.Replace, cancellationToken);
            return broadcast with { ETag = response.Headers.ETag?.ToString() };
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null;
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> if the broadcast still has the status it was read with. When someone moved it
    /// meanwhile (cancelled, paused, completed by another worker), returns the broadcast as it now stands, unchanged.
    /// </summary>
    public async Task<Broadcast?> MoveAsync(Broadcast broadcast, Func<Broadcast, Broadcast> change, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await TryUpdateAsync(change(broadcast), cancellationToken) is { } moved) return moved;
            var current = await GetIfExistsAsync(broadcast.WorkspaceId, broadcast.AccountId, broadcast.Id, cancellationToken);
            if (current is null || current.Status != broadcast.Status) return current;
            broadcast = current; // changed in a way that keeps the status (a count, the request id): apply the change to it
        }
    }

    /// <summary>Marks a sending broadcast Completed once no chunk is pending (any number of callers may ask; one moves it).</summary>
    public async Task<Broadcast?> CompleteIfDoneAsync(Broadcast broadcast, DateTimeOffset now, CancellationToken cancellationToken) =>
        await HasPendingChunksAsync(broadcast, cancellationToken) ? broadcast
            : await MoveAsync(broadcast, b => b with { Status = BroadcastStatus.Completed, FinishedAt = now }, cancellationToken);

    /// <summary>Writes chunks of recipients under the broadcast's preparation.</summary>
    public async Task WriteChunksAsync(Broadcast broadcast, IReadOnlyList<BroadcastChunk> chunks, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.BroadcastChunks, cancellationToken);
        var partition = ChunkPartition(broadcast);
        await Task.WhenAll(chunks.Chunk(ChunksPerTransaction).Select(batch => table.SubmitTransactionAsync(
            batch.Select(c => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(partition, c))), cancellationToken)));
    }

    public async Task<BroadcastChunk?> GetChunkIfExistsAsync(Broadcast broadcast, int number, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.BroadcastChunks, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(ChunkPartition(broadcast), RowKey(number), cancellationToken: cancellationToken);
        return row.HasValue ? ToChunk(row.Value!) : null;
    }

    /// <summary>Saves a chunk if nobody changed it since it was read; null when someone did.</summary>
    public async Task<BroadcastChunk?> TryUpdateChunkAsync(Broadcast broadcast, BroadcastChunk chunk, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.BroadcastChunks, cancellationToken);
        try
        {
            var response = await table.UpdateEntityAsync(ToEntity(ChunkPartition(broadcast), chunk), new ETag(chunk.ETag!), TableUpdateMode.Replace, cancellationToken);
            return chunk with { ETag = response.Headers.ETag?.ToString() };
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null;
        }
    }

    /// <summary>The numbers of the chunks not sent yet.</summary>
    public async Task<List<int>> ListPendingChunksAsync(Broadcast broadcast, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.BroadcastChunks, cancellationToken);
        var filter = PendingChunks(broadcast, 0);
        var result = new List<int>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken))
            result.Add(int.Parse(row.RowKey));
        return result;
    }

    /// <summary>True while any chunk is still to be sent (stops at the first one found).</summary>
    public async Task<bool> HasPendingChunksAsync(Broadcast broadcast, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.BroadcastChunks, cancellationToken);
        var filter = PendingChunks(broadcast, 0);
        await foreach (var _ in table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["RowKey"], cancellationToken: cancellationToken))
            return true;
        return false;
    }

    /// <summary>The recipients of the chunks not sent yet, in chunk order, from chunk <paramref name="fromChunk"/> on.</summary>
    public async IAsyncEnumerable<BroadcastChunk> ListPendingRecipientsAsync(Broadcast broadcast, int fromChunk,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.BroadcastChunks, cancellationToken);
        var filter = PendingChunks(broadcast, fromChunk);
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            yield return ToChunk(row);
    }

    public async Task<BroadcastProgress> GetProgressAsync(Broadcast broadcast, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.BroadcastChunks, cancellationToken);
        var partition = ChunkPartition(broadcast);
        int sent = 0, failed = 0, pending = 0, chunksSent = 0, chunksFailed = 0, chunksPending = 0;
        DateTimeOffset? lastActivity = null;
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, select: ["Status", "Count", "Done", "FirstAttemptAt", "SentAt", "AttemptUntil"],
                           cancellationToken: cancellationToken))
        {
            var count = row.GetInt32("Count") ?? 0;
            // A tracked chunk stopped part-way has reached some of its recipients already.
            var reached = row.GetString("Done") is { Length: > 0 } done ? done.Count(c => c == ',') + 1 : 0;
            // An attempt holding a chunk began AttemptLease before its hold ends.
            foreach (var at in new[] { row.GetDateTimeOffset("FirstAttemptAt"), row.GetDateTimeOffset("SentAt"), row.GetDateTimeOffset("AttemptUntil") - BroadcastChunkSender.AttemptLease })
                if (at > lastActivity || lastActivity is null && at is not null) lastActivity = at;
            switch (Enum.Parse<ChunkStatus>(row.GetString("Status")))
            {
                case ChunkStatus.Sent: sent += count; chunksSent++; break;
                case ChunkStatus.Failed: failed += count; chunksFailed++; break;
                default: pending += count - reached; sent += reached; chunksPending++; break;
            }
        }
        return new BroadcastProgress(sent, failed, pending, chunksSent, chunksFailed, chunksPending, lastActivity);
    }

    private static string ChunkPartition(Broadcast b) => $"{AccountPartition.Of(b.WorkspaceId, b.AccountId)}:{b.Id}:{b.PreparationId}";

    private static string RowKey(int number) => number.ToString("D5");

    private static string PendingChunks(Broadcast broadcast, int fromChunk) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {ChunkPartition(broadcast)} and RowKey ge {RowKey(fromChunk)} and Status eq {nameof(ChunkStatus.Pending)}");

    private static TableEntity ToEntity(Broadcast b)
    {
        var entity = new TableEntity(AccountPartition.Of(b.WorkspaceId, b.AccountId), b.Id)
        {
            ["Name"] = b.Name, ["MessageRef"] = b.MessageRef, ["SegmentId"] = b.SegmentId, ["ScheduledAt"] = b.ScheduledAt,
            ["AllowPartialSend"] = b.AllowPartialSend, ["Status"] = b.Status.ToString(), ["Reason"] = b.Reason, ["Targeted"] = b.Targeted,
            ["SkippedBlocked"] = b.SkippedBlocked, ["ChunkCount"] = b.Chunks, ["PreparationId"] = b.PreparationId, ["Tracked"] = b.Tracked,
            ["Utm"] = b.Utm.Count == 0 ? null : System.Text.Json.JsonSerializer.Serialize(b.Utm),
            ["PreparationAttempts"] = b.PreparationAttempts, ["LineRequestId"] = b.LineRequestId, ["CreatedAt"] = b.CreatedAt,
            ["StartedAt"] = b.StartedAt, ["DispatchedAt"] = b.DispatchedAt, ["FinishedAt"] = b.FinishedAt,
        };
        LongText.Write(entity, "Messages", b.Messages.ToJsonString());
        return entity;
    }

    private static Broadcast ToBroadcast(TableEntity e)
    {
        var (workspaceId, accountId) = AccountPartition.Parse(e.PartitionKey);
        return new Broadcast
        {
            WorkspaceId = workspaceId, AccountId = accountId, Id = e.RowKey, Name = e.GetString("Name"),
            Messages = JsonNode.Parse(LongText.Read(e, "Messages"))!.AsArray(), MessageRef = e.GetString("MessageRef"), SegmentId = e.GetString("SegmentId"),
            ScheduledAt = e.GetDateTimeOffset("ScheduledAt") ?? default, AllowPartialSend = e.GetBoolean("AllowPartialSend") ?? false,
            Status = Enum.Parse<BroadcastStatus>(e.GetString("Status")), Reason = e.GetString("Reason"), Targeted = e.GetInt32("Targeted") ?? 0,
            SkippedBlocked = e.GetInt32("SkippedBlocked") ?? 0, Chunks = e.GetInt32("ChunkCount") ?? 0, PreparationId = e.GetString("PreparationId"), Tracked = e.GetBoolean("Tracked") ?? false,
            Utm = e.GetString("Utm") is { } utm ? System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(utm) ?? [] : new Dictionary<string, string>(),
            PreparationAttempts = e.GetInt32("PreparationAttempts") ?? 0, LineRequestId = e.GetString("LineRequestId"),
            CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? default, StartedAt = e.GetDateTimeOffset("StartedAt"), DispatchedAt = e.GetDateTimeOffset("DispatchedAt"), FinishedAt = e.GetDateTimeOffset("FinishedAt"),
            ETag = e.ETag.ToString(),
        };
    }

    private static TableEntity ToEntity(string partition, BroadcastChunk c) => new(partition, RowKey(c.Number))
    {
        ["UserIds"] = string.Join(',', c.UserIds),
        ["ProfileIds"] = string.Join(',', c.ProfileIds.Select(p => p ?? "")),
        ["Count"] = c.UserIds.Count,
        ["Status"] = c.Status.ToString(),
        ["LineRequestId"] = c.LineRequestId,
        ["FirstAttemptAt"] = c.FirstAttemptAt,
        ["AttemptUntil"] = c.AttemptUntil,
        ["Done"] = c.Done.Count == 0 ? null : string.Join(',', c.Done.Order()),
        ["SentAt"] = c.SentAt,
        ["Reason"] = c.Reason,
    };

    private static BroadcastChunk ToChunk(TableEntity e) => new()
    {
        Number = int.Parse(e.RowKey),
        UserIds = e.GetString("UserIds").Split(','),
        ProfileIds = e.GetString("ProfileIds").Split(',').Select(p => p.Length == 0 ? null : p).ToList(),
        Status = Enum.Parse<ChunkStatus>(e.GetString("Status")),
        LineRequestId = e.GetString("LineRequestId"),
        FirstAttemptAt = e.GetDateTimeOffset("FirstAttemptAt"),
        AttemptUntil = e.GetDateTimeOffset("AttemptUntil"),
        Done = e.GetString("Done") is { Length: > 0 } done ? done.Split(',').Select(int.Parse).ToHashSet() : new HashSet<int>(),
        SentAt = e.GetDateTimeOffset("SentAt"),
        Reason = e.GetString("Reason"),
        ETag = e.ETag.ToString(),
    };
}
