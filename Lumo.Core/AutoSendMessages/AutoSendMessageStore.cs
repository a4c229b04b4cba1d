using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.AutoSendMessages;

/// <summary>Auto Send Messages, one partition per workspace. Message JSON is split over properties (<see cref="LongText"/>).</summary>
public sealed class AutoSendMessageStore(LumoTables tables)
{
    public async Task<AutoSendMessage?> GetIfExistsAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.AutoSendMessages, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, id, cancellationToken: cancellationToken);
        return row.HasValue ? ToMessage(row.Value!) : null;
    }

    public async Task<List<AutoSendMessage>> ListAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.AutoSendMessages, cancellationToken);
        var result = new List<AutoSendMessage>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == workspaceId, cancellationToken: cancellationToken))
            result.Add(ToMessage(row));
        return result;
    }

    public async Task SaveAsync(AutoSendMessage message, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.AutoSendMessages, cancellationToken);
        var json = message.Messages.ToJsonString();
        var entity = new TableEntity(message.WorkspaceId, message.Id)
        {
            ["Name"] = message.Name, ["TrackOpensAndClicks"] = message.TrackOpensAndClicks,
            ["Utm"] = message.Utm.Count == 0 ? null : System.Text.Json.JsonSerializer.Serialize(message.Utm), ["CreatedAt"] = message.CreatedAt, ["UpdatedAt"] = message.UpdatedAt,
        };
        LongText.Write(entity, "Messages", json);
        await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<bool> DeleteAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.AutoSendMessages, cancellationToken);
        var response = await table.DeleteEntityAsync(workspaceId, id, ETag.All, cancellationToken);
        return response.Status != 404;
    }

    private static AutoSendMessage ToMessage(TableEntity e) => new()
    {
        WorkspaceId = e.PartitionKey,
        Id = e.RowKey,
        Name = e.GetString("Name"),
        Messages = JsonNode.Parse(LongText.Read(e, "Messages"))!.AsArray(),
        TrackOpensAndClicks = e.GetBoolean("TrackOpensAndClicks") ?? true,
        Utm = e.GetString("Utm") is { } utm ? System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(utm) ?? [] : new Dictionary<string, string>(),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? default,
        UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? default,
    };
}
