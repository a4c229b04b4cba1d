using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.Shopify;

/// <summary>
/// Table <c>ShopifyProducts</c>: one row per product, partition = workspace id, row key = the product's numeric id
/// (20 digits, so rows sort by id). Only what feeds need is kept; nothing of customers.
/// </summary>
public sealed class ShopifyProductStore(LumoTables tables)
{
    /// <summary>Writes a page of products as Shopify showed them, in entity-group transactions of up to 100.</summary>
    public async Task WriteAsync(string workspaceId, IReadOnlyList<ShopifyProduct> products, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyProducts, cancellationToken);
        foreach (var chunk in products.DistinctBy(p => p.Id).Chunk(100))
            await table.SubmitTransactionAsync(chunk.Select(p => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(workspaceId, p))), cancellationToken);
    }

    /// <summary>
    /// Writes one product unless the stored one is newer (by Shopify's <c>updatedAt</c>): a webhook's re-read and an
    /// incremental pass may cross, and the older must not win. Shopify's times have whole seconds, so a read of the same
    /// second is written (it is at least as current as what is stored). Returns whether it wrote.
    /// </summary>
    public async Task<bool> WriteIfNewerAsync(string workspaceId, ShopifyProduct product, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyProducts, cancellationToken);
        var stored = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, Key(product.Id), ["UpdatedAt"], cancellationToken);
        try
        {
            if (!stored.HasValue) await table.AddEntityAsync(ToEntity(workspaceId, product), cancellationToken);
            else if (stored.Value!.GetDateTimeOffset("UpdatedAt") is { } at && at > product.UpdatedAt) return false;
            else await table.UpdateEntityAsync(ToEntity(workspaceId, product), stored.Value.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return await WriteIfNewerAsync(workspaceId, product, cancellationToken); // someone wrote meanwhile: compare with theirs
        }
    }

    public async Task<bool> DeleteAsync(string workspaceId, long productId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyProducts, cancellationToken);
        try
        {
            return (await table.DeleteEntityAsync(workspaceId, Key(productId), ETag.All, cancellationToken)).Status != 404;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }

    /// <summary>Every product of the workspace, a page at a time (memory holds one page).</summary>
    public async IAsyncEnumerable<ShopifyProduct> ScanAsync(string workspaceId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyProducts, cancellationToken);
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == workspaceId, maxPerPage: 1000, cancellationToken: cancellationToken))
            yield return FromEntity(row);
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
