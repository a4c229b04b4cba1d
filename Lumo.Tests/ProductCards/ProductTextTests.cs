using Lumo.Core.ProductCards;

namespace Lumo.Tests.ProductCards;

/// <summary>How product names and prices from events are made fit for a LINE card.</summary>
public sealed class ProductTextTests
{
    [Fact]
    public void CutsLongNamesBetweenGraphemeClustersNeverInsideAnEmoji()
    {
        var family = "👨‍👩‍👧‍👦"; // one user-perceived character of seven code points
        var name = new string('あ', 38) + family + "🇯🇵 tail";

        var cut = Product.Cut(name, 40);

        Assert.Equal(new string('あ', 38) + family + "…", cut);
        Assert.Equal("short", Product.Cut("short", 40));
    }

    [Theory]
    [InlineData("¥1,200", 1200)]
    [InlineData("$29.99", 29.99)]
    [InlineData("29,99 €", 29.99)]
    [InlineData("1.200,50", 1200.50)]
    [InlineData("NT$ 12,345", 12345)]
    [InlineData("2400.00", 2400)]
    [InlineData("12.500", 12.5)]
    [InlineData("0.30000000000000004", 0.3)]
    public void ReadsPricesFromNumbersAndMoneyStrings(string text, double expected) =>
        Assert.Equal((decimal)expected, Product.ParsePrice(text));

    [Theory]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData(null)]
    public void AnUnreadablePriceIsNoPrice(string? text) => Assert.Null(Product.ParsePrice(text));

    [Theory]
    [InlineData(1200, "JPY", "¥1,200")]
    [InlineData(1199.5, "JPY", "¥1,200")]
    [InlineData(1290, "THB", "฿1,290.00")]
    [InlineData(12345, "TWD", "NT$12,345")]
    [InlineData(29.99, "USD", "$29.99")]
    [InlineData(10, "CHF", "CHF 10.00")]
    public void FormatsPricesInTheStoreCurrency(double amount, string currency, string expected) =>
        Assert.Equal(expected, Money.Format((decimal)amount, currency));

    [Fact]
    public void CleansHtmlAndWhiteSpaceFromNames() =>
        Assert.Equal("Yuzu & Hinoki Soap Gift Set", Product.Create("<b>Yuzu &amp; Hinoki</b> Soap\n\tGift Set", null, null, null)!.Name);

    [Fact]
    public void LinksAndImagesReachLineInAscii()
    {
        var product = Product.Create("Matcha", "https://shop.example.com/products/抹茶 set", "https://cdn.example.com/抹茶.png", null)!;

        Assert.Equal("https://shop.example.com/products/%E6%8A%B9%E8%8C%B6%20set", product.Url);
        Assert.Equal("https://cdn.example.com/%E6%8A%B9%E8%8C%B6.png", product.ImageUrl);
        Assert.Null(Product.Create("Soap", "javascript:alert(1)", "http://cdn.example.com/a.png", null)!.Url);
    }

    [Fact]
    public void AValueThatDoesNotDecodeDropsItsProductAndUrlSafeBase64Decodes()
    {
        static string B64(string s) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(s));
        var trigger = System.Text.Json.Nodes.JsonNode.Parse($$"""
            {"encoding":"base64","products":[{"name":"not base64 at all!"},{"name":"{{B64("桜?>")}}"},{"name":"{{B64("桜?>").Replace('+', '-').Replace('/', '_').TrimEnd('=')}}"},null],"links":[]}
            """);

        var products = TriggerProducts.Read(trigger, [])!.Products;

        Assert.Equal(["桜?>", "桜?>"], products.Select(p => p.Name));
    }

    [Fact]
    public void CartUrlIsAProfileVariableUnlessATriggerCardGivesIt()
    {
        var text = new System.Text.Json.Nodes.JsonObject { ["type"] = "text", ["text"] = "Back to {{cart_url}}" };
        var plain = new Lumo.Core.AutoSendMessages.AutoSendMessage { WorkspaceId = "w", Id = "m", Name = "n", Messages = [text] };

        Assert.Equal(["cart_url"], plain.ProfileVariables);
        Assert.Equal("Back to https://x.example/c", plain.Render(new Dictionary<string, string> { ["cart_url"] = "https://x.example/c" }, null, null, out _)[0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public void AltTextIsCutToLinesLengthBetweenGraphemes() =>
        Assert.Equal(new string('a', 3) + "…", Product.CutToLength("aaa👨‍👩‍👧‍👦", 5));
}
