using Azure.Data.Tables;
using Lumo.Core.Secrets;
using Lumo.Core.Shopify;
using Lumo.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Privacy;

/// <summary>
/// Removes everything Lumo holds of a LINE account or a whole workspace when it is deleted: secrets (channel secret,
/// access token, LINE Login secret; for a workspace also the Klaviyo key or app tokens and the Flow key), friends with their contact
/// details and index and claim rows, the LINE event log, QR codes, ID linkage settings, import and Sync Data history, follower snapshots, arms, link
/// sessions, sends with their content claims, and for a workspace its Auto Send Messages, outbox, parked events and
/// import jobs. Rows are found by partition (or by the account column where rows of several accounts share one) and
/// deleted a page of keys at a time. What was written to Klaviyo stays there, as documented. Each erasure is recorded
/// (who, when, what; never the data) in the <c>ErasureLog</c> table.
/// </summary>
public sealed class TenantDataErasure(LumoTables tables, ISecretStore secrets, TimeProvider clock, ILogger<TenantDataErasure> logger)
{
    /// <summary>Erases the account's data; recorded when anything was found, or always with <paramref name="recordEvenIfEmpty"/>.</summary>
    public async Task EraseAccountAsync(string workspaceId, string accountId, string erasedBy, bool recordEvenIfEmpty, CancellationToken cancellationToken)
    {
        foreach (var name in new[] { SecretNames.ChannelSecret(workspaceId, accountId), SecretNames.ChannelAccessToken(workspaceId, accountId),
                     SecretNames.LoginChannelSecret(workspaceId, accountId) })
            await secrets.DeleteAsync(name, cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        var rows = 0;
        foreach (var table in new[] { TableNames.LineFriends, TableNames.LineEventLog, TableNames.LinkQrCodes, TableNames.FormLinkArms, TableNames.LinkImportRuns,
                     TableNames.Segments, TableNames.Broadcasts, TableNames.RichMenus, TableNames.RichMenuLinks, TableNames.SyncRuns, TableNames.LineFollowers })
            rows += await DeleteAsync(table, $"PartitionKey eq {Quote(partition)}", cancellationToken);
        // Chunk partitions are "{account partition}:{broadcast id}".
        rows += await DeleteAsync(TableNames.BroadcastChunks, $"PartitionKey ge {Quote(partition + ":")} and PartitionKey lt {Quote(partition + ";")}", cancellationToken);
        rows += await DeleteAsync(TableNames.IdLinkageSettings, $"PartitionKey eq {Quote(workspaceId)} and RowKey eq {Quote(accountId)}", cancellationToken);
        rows += await DeleteAsync(TableNames.LineSends, $"PartitionKey eq {Quote(workspaceId)} and AccountId eq {Quote(accountId)}", cancellationToken);
        rows += await DeleteAsync(TableNames.KlaviyoImportJobs, $"PartitionKey eq {Quote(workspaceId)} and AccountId eq {Quote(accountId)}", cancellationToken);
        rows += await DeleteAsync(TableNames.LinkSessions, $"WorkspaceId eq {Quote(workspaceId)} and AccountId eq {Quote(accountId)}", cancellationToken);
        rows += await DeleteAsync(TableNames.Leases, $"RowKey eq {Quote(partition)}", cancellationToken);
        if (rows > 0 || recordEvenIfEmpty) await RecordAsync(workspaceId, $"LINE account {accountId}", rows, erasedBy, cancellationToken);
    }

    /// <summary>Everything of the workspace, its accounts' data included (their ids given by the caller, who read them before deleting).</summary>
    public async Task EraseWorkspaceAsync(string workspaceId, IEnumerable<string> accountIds, string erasedBy, CancellationToken cancellationToken)
    {
        foreach (var accountId in accountIds) await EraseAccountAsync(workspaceId, accountId, erasedBy, recordEvenIfEmpty: true, cancellationToken);
        await secrets.DeleteAsync(SecretNames.KlaviyoApiKey(workspaceId), cancellationToken);
        await secrets.DeleteAsync(SecretNames.KlaviyoOAuthGrant(workspaceId), cancellationToken);
        await secrets.DeleteAsync(SecretNames.FlowKey(workspaceId), cancellationToken);
        await secrets.DeleteAsync(SecretNames.ShopifyAccessToken(workspaceId), cancellationToken);
        var rows = 0;
        foreach (var table in new[] { TableNames.LineSends, TableNames.AutoSendMessages, TableNames.KlaviyoEventsParked, TableNames.KlaviyoImportJobs,
                     TableNames.ShopifyProducts, TableNames.ShopifyFeeds, TableNames.Workspaces })
            rows += await DeleteAsync(table, $"PartitionKey eq {Quote(workspaceId)}", cancellationToken);
        // The Shopify store: the workspace's connection, and the store's claim (so its webhooks and the schedule find no one).
        rows += await DeleteAsync(TableNames.ShopifyStores, $"(PartitionKey eq {Quote(ShopifyConnectionStore.ByWorkspace)} and RowKey eq {Quote(workspaceId)}) or (PartitionKey eq {Quote(ShopifyConnectionStore.ByShop)} and WorkspaceId eq {Quote(workspaceId)})",
            cancellationToken);
        // The outbox is sharded: partitions "{workspace}~0" … "{workspace}~F".
        rows += await DeleteAsync(TableNames.Leases, $"RowKey eq {Quote(workspaceId)}", cancellationToken);
        rows += await DeleteAsync(TableNames.KlaviyoEventOutbox, $"PartitionKey ge {Quote(workspaceId + "~")} and PartitionKey lt {Quote(workspaceId + "~~")}", cancellationToken);
        await RecordAsync(workspaceId, "workspace", rows, erasedBy, cancellationToken);
    }

    /// <summary>Erasures recorded for a workspace: when, by whom, what, how many rows; newest last.</summary>
    public async Task<List<(DateTimeOffset At, string By, string What, int Rows)>> ListAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ErasureLog, cancellationToken);
        return await table.QueryAsync<TableEntity>(e => e.PartitionKey == workspaceId, cancellationToken: cancellationToken)
            .Select(e => (e.GetDateTimeOffset("At") ?? default, e.GetString("By") ?? "", e.GetString("What") ?? "", e.GetInt32("Rows") ?? 0))
            .ToListAsync(cancellationToken);
    }

    internal async Task RecordAsync(string workspaceId, string what, int rows, string erasedBy, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ErasureLog, cancellationToken);
        var at = clock.GetUtcNow();
        await table.AddEntityAsync(new TableEntity(workspaceId, $"{at.UtcTicks:D19}-{Guid.NewGuid():N}")
        {
            ["At"] = at, ["By"] = erasedBy, ["What"] = what, ["Rows"] = rows,
        }, cancellationToken);
        logger.LogInformation("Erased {What} of workspace {WorkspaceId}: {Rows} rows, by {ErasedBy}", what, workspaceId, rows, erasedBy);
    }

    private async Task<int> DeleteAsync(string tableName, string filter, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(tableName, cancellationToken);
        return (await TableDeletes.DeleteMatchingAsync(table, filter, () => true, cancellationToken)).Deleted;
    }

    private static string Quote(string value) => "'" + value.Replace("'", "''") + "'";
}
