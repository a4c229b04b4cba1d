namespace Lumo.Core.ProductCards;

/// <summary>The product feeds a card can show, built from the workspace's Shopify store (<see cref="Shopify.ShopifyFeedBuilder"/>).</summary>
public enum ProductFeed { BestSellers, Newest, OnSale }

public static class ProductFeeds
{
    public static readonly IReadOnlyDictionary<string, ProductFeed> Names = new Dictionary<string, ProductFeed>
    {
        ["best-sellers"] = ProductFeed.BestSellers, ["newest"] = ProductFeed.Newest, ["on-sale"] = ProductFeed.OnSale,
    };

    public static string NameOf(ProductFeed feed) => Names.First(n => n.Value == feed).Key;
}

/// <summary>A feed's precomputed top products (at most ten, in order), in the store's currency, as built at <see cref="BuiltAt"/>.</summary>
public sealed record FeedProducts(IReadOnlyList<Product> Products, string? Currency, DateTimeOffset BuiltAt)
{
    public static readonly FeedProducts Empty = new([], null, default);
}
