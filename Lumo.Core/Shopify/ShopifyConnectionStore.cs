using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.Shopify;

/// <summary>
/// Table <c>ShopifyStores</c>: <c>(workspace, {workspaceId})</c> holds the workspace's <see cref="ShopifyConnection"/>;
/// <c>(shop, {domain})</c> names the workspace a store belongs to, which is how webhooks (named by the store) find it.
/// A store belongs to one workspace at a time.
/// </summary>
public sealed class ShopifyConnectionStore(LumoTables tables)
{
    /// <summary>The partitions: a workspace's connection (row = workspace id), and a store's claim (row = its domain, <c>WorkspaceId</c> = who holds it).</summary>
    public const string ByWorkspace = "workspace", ByShop = "shop";

    public async Task<ShopifyConnection?> GetIfExistsAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyStores, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(ByWorkspace, workspaceId, cancellationToken: cancellationToken);
        return row.HasValue ? FromEntity(row.Value!) : null;
    }

    public async Task<string?> WorkspaceOfAsync(ShopDomain shop, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyStores, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(ByShop, shop.Value, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value!.GetString("WorkspaceId") : null;
    }

    /// <summary>Claims the store for the workspace; false when another workspace has it.</summary>
    public async Task<bool> ClaimShopAsync(ShopDomain shop, string workspaceId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyStores, cancellationToken);
        try
        {
            await table.AddEntityAsync(new TableEntity(ByShop, shop.Value) { ["WorkspaceId"] = workspaceId }, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return await WorkspaceOfAsync(shop, cancellationToken) == workspaceId;
        }
    }

    /// <summary>Writes the connection; with an ETag only if nobody changed it since (412 otherwise).</summary>
    public async Task<ShopifyConnection> SaveAsync(ShopifyConnection connection, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyStores, cancellationToken);
        var entity = ToEntity(connection);
        var response = connection.ETag == default
            ? await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken)
            : await table.UpdateEntityAsync(entity, connection.ETag, TableUpdateMode.Replace, cancellationToken);
        return connection with { ETag = response.Headers.ETag ?? default };
    }

    public async Task<IReadOnlyList<ShopifyConnection>> ListInstalledAsync(CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyStores, cancellationToken);
        return await table.QueryAsync<TableEntity>($"PartitionKey eq '{ByWorkspace}' and Installed eq true", cancellationToken: cancellationToken)
            .Select(FromEntity).ToListAsync(cancellationToken);
    }

    public async Task DeleteAsync(string workspaceId, ShopDomain shop, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyStores, cancellationToken);
        await table.DeleteEntityAsync(ByWorkspace, workspaceId, ETag.All, cancellationToken);
        await ReleaseShopAsync(shop, workspaceId, cancellationToken);
    }

    /// <summary>Frees the store for any workspace, if this workspace holds it.</summary>
    public async Task ReleaseShopAsync(ShopDomain shop, string workspaceId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyStores, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(ByShop, shop.Value, cancellationToken: cancellationToken);
        if (row.HasValue && row.Value!.GetString("WorkspaceId") == workspaceId)
        {
            try { await table.DeleteEntityAsync(ByShop, shop.Value, row.Value.ETag, cancellationToken); }
            catch (RequestFailedException e) when (e.Status is 404 or 412) { } // gone, or claimed again meanwhile
        }
    }

    private static TableEntity ToEntity(ShopifyConnection c) => new(ByWorkspace, c.WorkspaceId)
    {
        ["Shop"] = c.Shop.Value, ["Scope"] = c.Scope, ["InstalledAt"] = c.InstalledAt, ["Installed"] = c.Installed, ["UninstalledAt"] = c.UninstalledAt,
        ["Currency"] = c.Currency, ["FullSyncDone"] = c.FullSyncDone, ["FullSyncCursor"] = c.FullSyncCursor, ["FullSyncStartedAt"] = c.FullSyncStartedAt,
        ["SyncedUpTo"] = c.SyncedUpTo, ["Products"] = c.Products, ["LastError"] = c.LastError,
    };

    private static ShopifyConnection FromEntity(TableEntity e)
    {
        ShopDomain.TryParse(e.GetString("Shop"), out var shop);
        return new ShopifyConnection
        {
            WorkspaceId = e.RowKey, Shop = shop, Scope = e.GetString("Scope") ?? "", InstalledAt = e.GetDateTimeOffset("InstalledAt") ?? default,
            Installed = e.GetBoolean("Installed") ?? false, UninstalledAt = e.GetDateTimeOffset("UninstalledAt"), Currency = e.GetString("Currency"),
            FullSyncDone = e.GetBoolean("FullSyncDone") ?? false, FullSyncCursor = e.GetString("FullSyncCursor"), FullSyncStartedAt = e.GetDateTimeOffset("FullSyncStartedAt"),
            SyncedUpTo = e.GetDateTimeOffset("SyncedUpTo"), Products = e.GetInt32("Products") ?? 0,
            LastError = e.GetString("LastError"), ETag = e.ETag,
        };
    }
}
