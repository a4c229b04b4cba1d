using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.FlowSends;

/// <summary>The send log: one row per send, partitioned by workspace.</summary>
public sealed class LineSendStore(LumoTables tables)
{
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
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == workspaceId, cancellationToken: cancellationToken))
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
