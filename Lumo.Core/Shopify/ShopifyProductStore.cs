using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.Shopify;

/// <summary>
/// Table <c>ShopifyProducts</c>: one row per product, partition = workspace id, row key = the product's numeric id
/// (20 digits, so rows sort by id). Only what feeds need is kept; nothing of customers. A deleted product leaves a
/// tombstone (<c>Deleted</c>, <c>UpdatedAt</c> = when Lumo learned of it) for <see cref="TombstoneLifetime"/>, so a
/// read of it from before the deletion (a sync page or a pass that crossed the webhook) cannot bring it back.
/// </summary>
public sealed class ShopifyProductStore(LumoTables tables, TimeProvider clock)
{
    /// <summary>Longer than any full sync or incremental pass runs, so every read that crossed the deletion has landed.</summary>
    public static readonly TimeSpan TombstoneLifetime = TimeSpan.FromDays(1);

    /// <summary>
    /// Writes a page of a full sync (products in id order) as Shopify showed them, in entity-group transactions of up
    /// to 100, leaving out products deleted after this read (one range query for the page's tombstones).
    /// </summary>
    public async Task WriteFullSyncPageAsync(string workspaceId, IReadOnlyList<ShopifyProduct> products, CancellationToken cancellationToken)
    {
        if (products.Count == 0) return;
        var table = await tables.GetAsync(TableNames.ShopifyProducts, cancellationToken);
        var deletedAt = new Dictionary<long, DateTimeOffset>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {workspaceId} and RowKey ge {Key(products.Min(p => p.Id))} and RowKey le {Key(products.Max(p => p.Id))} and Deleted eq true");
        await foreach (var tombstone in table.QueryAsync<TableEntity>(filter, select: ["RowKey", "UpdatedAt"], cancellationToken: cancellationToken))
            deletedAt[long.Parse(tombstone.RowKey, CultureInfo.InvariantCulture)] = tombstone.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MaxValue;
        var kept = products.DistinctBy(p => p.Id).Where(p => !(deletedAt.TryGetValue(p.Id, out var at) && at > p.UpdatedAt));
        foreach (var chunk in kept.Chunk(100))
            await table.SubmitTransactionAsync(chunk.Select(p => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(workspaceId, p))), cancellationToken);
    }

    /// <summary>
    /// Writes one product unless the stored one is newer (by Shopify's <c>updatedAt</c>): a webhook's re-read and an
    /// incremental pass may cross, and the older must not win. Shopify's times have whole seconds, so a read of the same
    /// second is written (it is at least as current as what is stored). Returns whether it wrote.
    /// </summary>
    public async Task<bool> WriteIfNewerAsync(string workspaceId, ShopifyProduct product, CancellationToken cancellationToken) =>
        await LaterWins.WriteAsync(await tables.GetAsync(TableNames.ShopifyProducts, cancellationToken), ToEntity(workspaceId, product), "UpdatedAt", product.UpdatedAt,
            cancellationToken);

    /// <summary>Replaces the product with a tombstone; true when a product (not already a tombstone) was there.</summary>
    public async Task<bool> DeleteAsync(string workspaceId, long productId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyProducts, cancellationToken);
        var stored = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, Key(productId), ["Deleted"], cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(workspaceId, Key(productId)) { ["Deleted"] = true, ["UpdatedAt"] = clock.GetUtcNow() }, TableUpdateMode.Replace, cancellationToken);
        return stored.HasValue && stored.Value!.GetBoolean("Deleted") != true;
    }

    /// <summary>Every product of the workspace (tombstones left out), a page at a time (memory holds one page).</summary>
    public async IAsyncEnumerable<ShopifyProduct> ScanAsync(string workspaceId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyProducts, cancellationToken);
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == workspaceId, maxPerPage: 1000, cancellationToken: cancellationToken))
            if (row.GetBoolean("Deleted") != true) yield return FromEntity(row);
    }

    /// <summary>Deletes the tombstones older than <see cref="TombstoneLifetime"/>; returns how many.</summary>
    public async Task<int> PurgeTombstonesAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyProducts, cancellationToken);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {workspaceId} and Deleted eq true and UpdatedAt lt {clock.GetUtcNow() - TombstoneLifetime}");
        return (await TableDeletes.DeleteMatchingAsync(table, filter, () => true, cancellationToken)).Deleted;
    }

    public async Task<int> DeleteAllAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyProducts, cancellationToken);
        return (await TableDeletes.DeleteMatchingAsync(table, $"PartitionKey eq '{workspaceId}'", () => true, cancellationToken)).Deleted;
    }

    private static string Key(long id) => id.ToString("D20", CultureInfo.InvariantCulture);

    private static TableEntity ToEntity(string workspaceId, ShopifyProduct p) => new(workspaceId, Key(p.Id))
    {
        ["Title"] = p.Title, ["Url"] = p.Url, ["ImageUrl"] = p.ImageUrl, ["Price"] = p.Price?.ToString(CultureInfo.InvariantCulture),
        ["CompareAtPrice"] = p.CompareAtPrice?.ToString(CultureInfo.InvariantCulture), ["Active"] = p.Active, ["Available"] = p.Available,
        ["PublishedAt"] = p.PublishedAt, ["UpdatedAt"] = p.UpdatedAt,
    };

    private static ShopifyProduct FromEntity(TableEntity e) => new(
        long.Parse(e.RowKey, CultureInfo.InvariantCulture), e.GetString("Title") ?? "", e.GetString("Url"), e.GetString("ImageUrl"),
        Decimal(e.GetString("Price")), Decimal(e.GetString("CompareAtPrice")), e.GetBoolean("Active") ?? false, e.GetBoolean("Available") ?? false,
        e.GetDateTimeOffset("PublishedAt"), e.GetDateTimeOffset("UpdatedAt") ?? default);

    private static decimal? Decimal(string? text) => decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? d : null;
}
