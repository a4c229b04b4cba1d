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
/// so that a repeat within the duplicate window finds that send and a repeat after it starts a new one.
/// </summary>
public sealed class LineSendStore(LumoTables tables)
{
    private const string IndexStart = "~";

    private static string ContentRow(string contentKey) => $"~content:{contentKey}";

    public async Task<ContentClaim?> GetContentClaimIfExistsAsync(string workspaceId, string contentKey, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, ContentRow(contentKey), cancellationToken: cancellationToken);
        return row.HasValue ? new ContentClaim(row.Value!.GetString("SendId"), row.Value.GetDateTimeOffset("Since") ?? default, row.Value.ETag.ToString()) : null;
    }

    /// <summary>
    /// Points a content key at a new send: added when there was no claim, replaced only if the claim still has
    /// <paramref name="replacing"/>'s ETag. False when a concurrent request claimed it first (read it again).
    /// </summary>
    public async Task<bool> TryClaimContentAsync(string workspaceId, string accountId, string contentKey, string sendId, DateTimeOffset since, ContentClaim? replacing,
        CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        var row = new TableEntity(workspaceId, ContentRow(contentKey)) { ["SendId"] = sendId, ["Since"] = since, ["AccountId"] = accountId };
        try
        {
            if (replacing is null) await table.AddEntityAsync(row, cancellationToken);
            else await table.UpdateEntityAsync(row, new ETag(replacing.ETag), TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    public async Task<LineSend?> GetIfExistsAsync(string workspaceId, string sendId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, sendId, cancellationToken: cancellationToken);
        return row.HasValue ? ToSend(row.Value!) : null;
    }

    /// <summary>Adds the send unless it exists; returns the stored one either way (a retry sees the first).</summary>
    public async Task<(LineSend Send, bool Created)> AddOrGetAsync(LineSend send, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineSends, cancellationToken);
        try
        {
            await table.AddEntityAsync(ToEntity(send), cancellationToken);
            return (send, true);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return ((await GetIfExistsAsync(send.WorkspaceId, send.Id, cancellationToken))!, false);
        }
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

    private static TableEntity ToEntity(LineSend s) => new(s.WorkspaceId, s.Id)
    {
        ["AccountId"] = s.AccountId,
        ["Recipient"] = s.Recipient,
        ["ProfileId"] = s.ProfileId,
        ["Source"] = s.Source,
        ["MessageRef"] = s.MessageRef,
        ["Messages"] = s.Messages.ToJsonString(),
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
        Status = Enum.TryParse<SendStatus>(e.GetString("Status"), out var status) ? status : SendStatus.Queued,
        Reason = e.GetString("Reason"),
        LineRequestId = e.GetString("LineRequestId"),
        KeySource = e.GetString("KeySource"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? default,
        UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? default,
    };
}
