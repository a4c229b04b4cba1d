using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Lumo.Core.ProductCards;
using Lumo.Core.Storage;

namespace Lumo.Core.Shopify;

/// <summary>
/// Table <c>ShopifyFeeds</c>, partition = workspace id: one row per feed (<c>best-sellers</c>, <c>newest</c>,
/// <c>on-sale</c>) holding its top products as a card shows them, so a send reads one row and calls no one; and row
/// <c>sales</c>, the best-selling product ids with units sold in the window, from the last count of orders.
/// </summary>
public sealed class ShopifyFeedStore(LumoTables tables)
{
    private const string SalesRow = "sales", SalesProgressRow = "sales-progress";

    /// <summary>An unfinished count of sales: the next orders page, when the count started, and the units counted so far.</summary>
    public sealed record SalesProgress(string Cursor, DateTimeOffset CountedAt, Dictionary<long, long> Units);

    /// <summary>The feed's products, or <see cref="FeedProducts.Empty"/> when none was built (no store, uninstalled). One point read.</summary>
    public async Task<FeedProducts> ReadAsync(string workspaceId, ProductFeed feed, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyFeeds, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, ProductFeeds.NameOf(feed), cancellationToken: cancellationToken);
        if (!row.HasValue) return FeedProducts.Empty;
        var products = (JsonNode.Parse(row.Value!.GetString("Products") ?? "[]") as JsonArray ?? []).OfType<JsonObject>()
            .Select(p => Product.Create(Text(p, "name"), Text(p, "url"), Text(p, "imageUrl"), Text(p, "price"), Text(p, "compareAtPrice")))
            .OfType<Product>().ToList();
        return new FeedProducts(products, row.Value.GetString("Currency"), row.Value.GetDateTimeOffset("BuiltAt") ?? default);
    }

    /// <summary>The feeds a message's cards show, one point read each (none for a message without feed cards).</summary>
    public async Task<IReadOnlyDictionary<ProductFeed, FeedProducts>> ReadAsync(string workspaceId, IReadOnlyList<ProductFeed> wanted, CancellationToken cancellationToken)
    {
        var read = new Dictionary<ProductFeed, FeedProducts>();
        foreach (var feed in wanted) read[feed] = await ReadAsync(workspaceId, feed, cancellationToken);
        return read;
    }

    /// <summary>Saves a feed unless a build that started later has already saved it.</summary>
    public async Task SaveAsync(string workspaceId, ProductFeed feed, IEnumerable<ShopifyProduct> products, string? currency, DateTimeOffset builtAt, CancellationToken cancellationToken)
    {
        var list = new JsonArray(products.Select(p => (JsonNode)new JsonObject
        {
            ["name"] = p.Title, ["url"] = p.Url, ["imageUrl"] = p.ImageUrl,
            ["price"] = p.Price?.ToString(CultureInfo.InvariantCulture), ["compareAtPrice"] = p.CompareAtPrice?.ToString(CultureInfo.InvariantCulture),
        }).ToArray());
        var row = new TableEntity(workspaceId, ProductFeeds.NameOf(feed))
        {
            ["Products"] = list.ToJsonString(), ["Count"] = list.Count, ["Currency"] = currency, ["BuiltAt"] = builtAt,
        };
        // Two builds may run at once (a sync and a webhook each ask for one): the one that started later wins, whichever writes last.
        await LaterWins.WriteAsync(await tables.GetAsync(TableNames.ShopifyFeeds, cancellationToken), row, "BuiltAt", builtAt, cancellationToken);
    }

    /// <summary>When the feeds were last built (the start of that build's scan), or null.</summary>
    public async Task<DateTimeOffset?> BuiltAtAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyFeeds, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, ProductFeeds.NameOf(ProductFeed.Newest), ["BuiltAt"], cancellationToken);
        return row.HasValue ? row.Value!.GetDateTimeOffset("BuiltAt") : null;
    }

    public async Task SaveSalesAsync(string workspaceId, IReadOnlyList<(long ProductId, long Units)> best, DateTimeOffset countedAt, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyFeeds, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(workspaceId, SalesRow)
        {
            ["Units"] = JsonSerializer.Serialize(best.Select(b => new[] { b.ProductId, b.Units })), ["CountedAt"] = countedAt,
        }, TableUpdateMode.Replace, cancellationToken);
        await DeleteRowAsync(table, workspaceId, SalesProgressRow, cancellationToken); // the count it went on with is done
    }

    /// <summary>Saves an unfinished count (one row: units of up to about 40,000 products fit in its 1 MiB).</summary>
    public async Task SaveSalesProgressAsync(string workspaceId, string cursor, DateTimeOffset countedAt, Dictionary<long, long> units, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyFeeds, cancellationToken);
        var row = new TableEntity(workspaceId, SalesProgressRow) { ["Cursor"] = cursor, ["CountedAt"] = countedAt };
        LongText.Write(row, "Units", JsonSerializer.Serialize(units.Select(u => new[] { u.Key, u.Value })));
        await table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<SalesProgress?> ReadSalesProgressAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyFeeds, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, SalesProgressRow, cancellationToken: cancellationToken);
        if (!row.HasValue || row.Value!.GetString("Cursor") is not { } cursor || row.Value.GetDateTimeOffset("CountedAt") is not { } countedAt) return null;
        var units = (JsonSerializer.Deserialize<long[][]>(LongText.Read(row.Value, "Units")) ?? []).ToDictionary(pair => pair[0], pair => pair[1]);
        return new SalesProgress(cursor, countedAt, units);
    }

    /// <summary>Units sold per product id, best first (empty before the first count or for a store without sales), and when they were counted.</summary>
    public async Task<(IReadOnlyList<(long ProductId, long Units)> Best, DateTimeOffset? CountedAt)> ReadSalesAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyFeeds, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, SalesRow, cancellationToken: cancellationToken);
        if (!row.HasValue) return ([], null);
        var best = (JsonSerializer.Deserialize<long[][]>(row.Value!.GetString("Units") ?? "[]") ?? []).Select(pair => (pair[0], pair[1])).ToList();
        return (best, row.Value.GetDateTimeOffset("CountedAt"));
    }

    /// <summary>Deletes the feeds (cards fall back at once) and, with <paramref name="sales"/>, the sales counts.</summary>
    public async Task DeleteAsync(string workspaceId, bool sales, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.ShopifyFeeds, cancellationToken);
        foreach (var name in ProductFeeds.Names.Keys.Concat(sales ? [SalesRow, SalesProgressRow] : []))
            await DeleteRowAsync(table, workspaceId, name, cancellationToken);
    }

    private static async Task DeleteRowAsync(TableClient table, string workspaceId, string name, CancellationToken cancellationToken)
    {
        try { await table.DeleteEntityAsync(workspaceId, name, ETag.All, cancellationToken); }
        catch (RequestFailedException e) when (e.Status == 404) { }
    }

    private static string? Text(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
