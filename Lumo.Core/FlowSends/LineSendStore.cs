using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.FlowSends;

/// <summary>Which send a content-derived key currently stands for, and since when (its duplicate window starts then).</summary>
public sealed record ContentClaim(string SendId, DateTimeOffset Since, string ETag);

/// <summary>
/// The send log: one row per send, partitioned by workspace, row key = send id (hex). Beside them, after "~",
/// <c>~content:{key}</c> rows map a content-derived key (recipient + messages) to the send it currently stands for,
/// so that a repeat within the duplicate window finds that send and a repeat after it starts a new one; and
/// <c>~pending:{sendId}</c> marks a send recorded but not yet pushed nor handed to the queue, so that a process that
/// dies in between leaves a mark the sweep finds (<see cref="PendingSendSweep"/>).
/// </summary>
public sealed class LineSendStore(LumoTables tables)
{
    private const string IndexStart = "~";
    // URLs as they are (no \u0026 for every &): a column holds at most 64 KiB.
    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string ContentRow(string contentKey) => $"~content:{contentKey}";

    public async Task<ContentClaim?> GetContentClaimIfExistsAsync(string workspaceId, string contentKey, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, ContentRow(contentKey), cancellationToken: cancellationToken);
        return row.HasValue ? new ContentClaim(row.Value!.GetString("SendId"), row.Value.GetDateTimeOffset("Since") ?? default, row.Value.ETag.ToString()) : null;
    }

    private static string PendingRow(string sendId) => $"~pending:{sendId}";

    /// <summary>
    /// Records a new send, its pending mark and (for a content-derived send) the content claim pointing at it, in one
    /// entity-group transaction: all or nothing. Null when the send or the claim already exists (a concurrent or
    /// earlier request recorded it first: that request pushes, this one must not); else the send as stored.
    /// </summary>
    public async Task<LineSend?> TryRecordNewAsync(LineSend send, string? contentKey, ContentClaim? replacingClaim, CancellationToken cancellationToken)
    {
        var actions = new List<TableTransactionAction>();
        if (contentKey is not null)
        {
            var claim = new TableEntity(send.WorkspaceId, ContentRow(contentKey)) { ["SendId"] = send.Id, ["Since"] = send.CreatedAt, ["AccountId"] = send.AccountId };
            actions.Add(replacingClaim is null
                ? new TableTransactionAction(TableTransactionActionType.Add, claim)
                : new TableTransactionAction(TableTransactionActionType.UpdateReplace, claim, new ETag(replacingClaim.ETag)));
        }
        actions.Add(new TableTransactionAction(TableTransactionActionType.Add, ToEntity(send)));
        return await TryWithPendingMarkAsync(send, actions, cancellationToken);
    }

    /// <summary>
    /// Turns a send an older version logged as skipped under the send's own id into this send, with its pending mark;
    /// null when another request did so first.
    /// </summary>
    public Task<LineSend?> TryReplaceSkippedAsync(LineSend send, string skippedETag, CancellationToken cancellationToken) =>
        TryWithPendingMarkAsync(send, [new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(send), new ETag(skippedETag))], cancellationToken);

    private async Task<LineSend?> TryWithPendingMarkAsync(LineSend send, List<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace,
            new TableEntity(send.WorkspaceId, PendingRow(send.Id)) { ["SendId"] = send.Id, ["AccountId"] = send.AccountId, ["Since"] = send.UpdatedAt }));
        try
        {
            var responses = (await table.SubmitTransactionAsync(actions, cancellationToken)).Value;
            return send with { ETag = responses[^2].Headers.ETag?.ToString() };
        }
        catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
        {
            return null;
        }
    }

    /// <summary>
    /// Saves the send's outcome over the version it was read or recorded as, and, with <paramref name="clearPending"/>,
    /// removes its pending mark in the same transaction (one request). The outcome's columns are merged, so an open or
    /// click marked on the row meanwhile stays; a row that changed only that way is saved over again. False when
    /// another attempt finished the send meanwhile (its outcome stands) or it was erased (it is not written back).
    /// </summary>
    public async Task<bool> TryCompleteAsync(LineSend send, bool clearPending, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            var outcome = new TableEntity(send.WorkspaceId, send.Id)
            {
                ["Status"] = send.Status.ToString(), ["Reason"] = send.Reason, ["LineRequestId"] = send.LineRequestId, ["UpdatedAt"] = send.UpdatedAt,
            };
            var update = new TableTransactionAction(TableTransactionActionType.UpdateMerge, outcome, send.ETag is null ? ETag.All : new ETag(send.ETag));
            try
            {
                await table.SubmitTransactionAsync(clearPending
                    ? [update, new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(send.WorkspaceId, PendingRow(send.Id)), ETag.All)]
                    : [update], cancellationToken);
                return true;
            }
            catch (TableTransactionFailedException e) when (e.Status is 404 or 412)
            {
                if (clearPending && e.FailedTransactionActionIndex == 1)
                {
                    clearPending = false; // only the mark was gone (the sweep handed the send to the queue)
                    continue;
                }
                if (e.Status == 404 || attempt >= 3) return false;
                var current = await GetIfExistsAsync(send.WorkspaceId, send.Id, cancellationToken);
                if (current is not { Status: SendStatus.Queued }) return false;
                send = send with { ETag = current.ETag }; // only an open or a click was marked meanwhile
            }
        }
    }

    /// <summary>
    /// Marks when the send was opened and which click windows were recorded, over the version read: false when the row
    /// changed meanwhile (read it again: another request may have recorded the same open or click).
    /// </summary>
    public async Task<bool> TryMarkEngagementAsync(LineSend send, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        try
        {
            await table.UpdateEntityAsync(new TableEntity(send.WorkspaceId, send.Id)
            {
                ["OpenedAt"] = send.OpenedAt, ["ClickWindows"] = ClickWindowsColumn(send),
            }, new ETag(send.ETag!), TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>Removes a send's pending mark: the queue has taken the send over.</summary>
    public async Task ClearPendingAsync(string workspaceId, string sendId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        try
        {
            await table.DeleteEntityAsync(workspaceId, PendingRow(sendId), ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404) { }
    }

    /// <summary>Sends of the workspace marked pending since before <paramref name="before"/> (a range read of the marks only).</summary>
    public async Task<List<string>> ListPendingSinceAsync(string workspaceId, DateTimeOffset before, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {workspaceId} and RowKey ge {"~pending:"} and RowKey lt {"~pending;"} and Since lt {before}");
        var result = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["SendId"], cancellationToken: cancellationToken))
            result.Add(row.GetString("SendId"));
        return result;
    }

    public async Task<LineSend?> GetIfExistsAsync(string workspaceId, string sendId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, sendId, cancellationToken: cancellationToken);
        return row.HasValue ? ToSend(row.Value!) : null;
    }

    /// <summary>Deletes every send to this recipient, and the content claims that pointed at them; returns how many rows.</summary>
    public async Task<int> DeleteToRecipientAsync(string workspaceId, string recipient, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        var deleted = 0;
        var ofRecipient = TableClient.CreateQueryFilter($"PartitionKey eq {workspaceId} and Recipient eq {recipient}");
        await foreach (var send in table.QueryAsync<TableEntity>(ofRecipient, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            var claims = TableClient.CreateQueryFilter($"PartitionKey eq {workspaceId} and SendId eq {send.RowKey}");
            await foreach (var claim in table.QueryAsync<TableEntity>(claims, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
            {
                await table.DeleteEntityAsync(claim.PartitionKey, claim.RowKey, ETag.All, cancellationToken);
                deleted++;
            }
            await table.DeleteEntityAsync(send.PartitionKey, send.RowKey, ETag.All, cancellationToken);
            deleted++;
        }
        return deleted;
    }

    public async Task SaveAsync(LineSend send, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        await table.UpsertEntityAsync(ToEntity(send), TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>
    /// Writes many sends of one workspace, merged into what is there (so the opens and clicks a tracking URL recorded
    /// meanwhile stay), in transactions of up to 100 that stay under the 4 MB a transaction may carry.
    /// </summary>
    public async Task SaveManyAsync(IReadOnlyList<LineSend> sends, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        var batches = new List<List<TableTransactionAction>>();
        var (batch, bytes) = (new List<TableTransactionAction>(), 0L);
        foreach (var entity in sends.Select(ToEntity))
        {
            var size = 2L * entity.Sum(p => p.Value is string text ? text.Length : 8) + 1_024;
            if (batch.Count == 100 || (batch.Count > 0 && bytes + size > 3_000_000))
            {
                batches.Add(batch);
                (batch, bytes) = ([], 0);
            }
            batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertMerge, entity));
            bytes += size;
        }
        if (batch.Count > 0) batches.Add(batch);
        await Task.WhenAll(batches.Select(b => table.SubmitTransactionAsync(b, cancellationToken)));
    }

    /// <summary>The newest sends first is not something Tables can do cheaply; this lists in id order, filtered.</summary>
    public async Task<List<LineSend>> ListAsync(string workspaceId, string? recipient, SendStatus? status, int max, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        var result = new List<LineSend>();
        var sendRows = TableClient.CreateQueryFilter($"PartitionKey eq {workspaceId} and RowKey lt {IndexStart}");
        await foreach (var row in table.QueryAsync<TableEntity>(sendRows, cancellationToken: cancellationToken))
        {
            var send = ToSend(row);
            if ((recipient is null || send.Recipient == recipient) && (status is null || send.Status == status)) result.Add(send);
            if (result.Count >= max) break;
        }
        return result;
    }

    private static string? ClickWindowsColumn(LineSend s) => s.ClickWindows.Count == 0 ? null : JsonSerializer.Serialize(s.ClickWindows);

    private static TableEntity ToEntity(LineSend s) => new(s.WorkspaceId, s.Id)
    {
        ["AccountId"] = s.AccountId,
        ["Recipient"] = s.Recipient,
        ["ProfileId"] = s.ProfileId,
        ["Source"] = s.Source,
        ["MessageRef"] = s.MessageRef,
        ["Messages"] = s.Messages.ToJsonString(),
        ["Links"] = s.Links.Count == 0 ? null : JsonSerializer.Serialize(s.Links, Compact),
        ["Images"] = s.Images.Count == 0 ? null : JsonSerializer.Serialize(s.Images, Compact),
        ["OpenedAt"] = s.OpenedAt,
        ["ClickWindows"] = ClickWindowsColumn(s),
        ["Status"] = s.Status.ToString(),
        ["Reason"] = s.Reason,
        ["LineRequestId"] = s.LineRequestId,
        ["KeySource"] = s.KeySource,
        ["CreatedAt"] = s.CreatedAt,
        ["UpdatedAt"] = s.UpdatedAt,
    };

    private static LineSend ToSend(TableEntity e) => new()
    {
        WorkspaceId = e.PartitionKey,
        Id = e.RowKey,
        AccountId = e.GetString("AccountId"),
        Recipient = e.GetString("Recipient"),
        ProfileId = e.GetString("ProfileId"),
        Source = e.GetString("Source"),
        MessageRef = e.GetString("MessageRef"),
        Messages = JsonNode.Parse(e.GetString("Messages") ?? "[]")!.AsArray(),
        Links = e.GetString("Links") is { } links ? JsonSerializer.Deserialize<List<string>>(links) ?? [] : [],
        Images = e.GetString("Images") is { } images ? JsonSerializer.Deserialize<List<string>>(images) ?? [] : [],
        OpenedAt = e.GetDateTimeOffset("OpenedAt"),
        ClickWindows = e.GetString("ClickWindows") is { } clicks ? JsonSerializer.Deserialize<Dictionary<int, long>>(clicks) ?? [] : new Dictionary<int, long>(),
        Status = Enum.TryParse<SendStatus>(e.GetString("Status"), out var status) ? status : SendStatus.Queued,
        Reason = e.GetString("Reason"),
        LineRequestId = e.GetString("LineRequestId"),
        KeySource = e.GetString("KeySource"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? default,
        UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? default,
        ETag = e.ETag.ToString(),
    };
}
