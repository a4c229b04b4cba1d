using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.RichMenus;

/// <summary>
/// Rich menus: table RichMenus, one partition per LINE account, one row per menu, and the row <c>~last-sync</c> with
/// the latest sync. The links the sync made: table RichMenuLinks, one partition per account, one row per LINE user
/// with the menu Lumo linked them to, so that a sync sends LINE only the changes.
/// </summary>
public sealed class RichMenuStore(LumoTables tables)
{
    private const string LastSyncRow = "~last-sync";

    public async Task<RichMenu?> GetIfExistsAsync(string workspaceId, string accountId, string id, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.RichMenus, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(AccountPartition.Of(workspaceId, accountId), id, cancellationToken: cancellationToken);
        return row.HasValue ? ToMenu(row.Value!) : null;
    }

    public async Task<List<RichMenu>> ListAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.RichMenus, cancellationToken);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {AccountPartition.Of(workspaceId, accountId)} and RowKey lt {"~"}");
        var result = new List<RichMenu>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken)) result.Add(ToMenu(row));
        return result.OrderBy(m => m.Priority).ThenBy(m => m.CreatedAt).ToList();
    }

    /// <summary>The accounts that have a rich menu assigned to a segment (what the sync timer goes through).</summary>
    public async Task<List<(string WorkspaceId, string AccountId)>> ListAccountsWithAssignmentsAsync(CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.RichMenus, cancellationToken);
        var accounts = new HashSet<string>();
        await foreach (var row in table.QueryAsync<TableEntity>("SegmentId ne ''", select: ["PartitionKey"], cancellationToken: cancellationToken))
            accounts.Add(row.PartitionKey);
        return accounts.Select(AccountPartition.Parse).ToList();
    }

    /// <summary>Saves the menu; with its ETag only if unchanged since read (null when someone changed it).</summary>
    public async Task<RichMenu?> SaveAsync(RichMenu menu, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.RichMenus, cancellationToken);
        try
        {
            var response = menu.ETag is null
                ? await table.AddEntityAsync(ToEntity(menu), cancellationToken)
                : await table.UpdateEntityAsync(ToEntity(menu), new ETag(menu.ETag), TableUpdateMode.Replace, cancellationToken);
            return menu with { ETag = response.Headers.ETag?.ToString() };
        }
        catch (RequestFailedException e) when (e.Status is 404 or 409 or 412)
        {
            return null;
        }
    }

    public async Task DeleteAsync(RichMenu menu, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.RichMenus, cancellationToken);
        await table.DeleteEntityAsync(AccountPartition.Of(menu.WorkspaceId, menu.AccountId), menu.Id, ETag.All, cancellationToken);
    }

    public async Task<RichMenuSyncRun?> GetLastSyncIfAnyAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.RichMenus, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(AccountPartition.Of(workspaceId, accountId), LastSyncRow, cancellationToken: cancellationToken);
        return row.HasValue ? JsonSerializer.Deserialize<RichMenuSyncRun>(row.Value!.GetString("Run"), LumoJson.Options) : null;
    }

    public async Task SaveLastSyncAsync(string workspaceId, string accountId, RichMenuSyncRun run, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.RichMenus, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(AccountPartition.Of(workspaceId, accountId), LastSyncRow) { ["Run"] = JsonSerializer.Serialize(run, LumoJson.Options) },
            TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>Every user Lumo has linked a menu to, with that menu's Lumo id.</summary>
    public async Task<Dictionary<string, string>> ListLinksAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.RichMenuLinks, cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, select: ["RowKey", "MenuId"], cancellationToken: cancellationToken))
            links[row.RowKey] = row.GetString("MenuId");
        return links;
    }

    /// <summary>Records that these users now have <paramref name="menuId"/> (null: no menu of their own), 100 rows a transaction.</summary>
    public async Task SaveLinksAsync(string workspaceId, string accountId, IReadOnlyList<string> userIds, string? menuId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.RichMenuLinks, cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        await Task.WhenAll(userIds.Chunk(100).Select(batch => table.SubmitTransactionAsync(batch.Select(user => menuId is null
            ? new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, user), ETag.All)
            : new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partition, user) { ["MenuId"] = menuId })), cancellationToken)));
    }

    private static TableEntity ToEntity(RichMenu m) => new(AccountPartition.Of(m.WorkspaceId, m.AccountId), m.Id)
    {
        ["Name"] = m.Name, ["ChatBarText"] = m.ChatBarText, ["Width"] = m.Width, ["Height"] = m.Height, ["Areas"] = m.Areas.ToJsonString(),
        ["LineRichMenuId"] = m.LineRichMenuId, ["SegmentId"] = m.SegmentId ?? "", ["Priority"] = m.Priority, ["IsDefault"] = m.IsDefault,
        ["CreatedAt"] = m.CreatedAt, ["UpdatedAt"] = m.UpdatedAt,
    };

    private static RichMenu ToMenu(TableEntity e)
    {
        var (workspaceId, accountId) = AccountPartition.Parse(e.PartitionKey);
        return new RichMenu
        {
            WorkspaceId = workspaceId, AccountId = accountId, Id = e.RowKey, Name = e.GetString("Name"), ChatBarText = e.GetString("ChatBarText"),
            Width = e.GetInt32("Width") ?? 0, Height = e.GetInt32("Height") ?? 0, Areas = JsonNode.Parse(e.GetString("Areas"))!.AsArray(),
            LineRichMenuId = e.GetString("LineRichMenuId"), SegmentId = e.GetString("SegmentId") is { Length: > 0 } s ? s : null,
            Priority = e.GetInt32("Priority") ?? 100, IsDefault = e.GetBoolean("IsDefault") ?? false,
            CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? default, UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? default, ETag = e.ETag.ToString(),
        };
    }
}
