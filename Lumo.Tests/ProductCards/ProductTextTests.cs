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
}
