using System.Globalization;

namespace Lumo.Core.ProductCards;

/// <summary>
/// Prices in a store's currency (an ISO 4217 code) the way shoppers in Lumo's markets read them: "¥1,200",
/// "NT$1,200", "฿1,290.00", "$29.99". Currencies without minor units are rounded to whole amounts.
/// </summary>
public static class Money
{
    private static readonly Dictionary<string, (string Symbol, int Decimals)> Known = new()
    {
        ["JPY"] = ("¥", 0), ["TWD"] = ("NT$", 0), ["THB"] = ("฿", 2), ["USD"] = ("$", 2), ["EUR"] = ("€", 2), ["GBP"] = ("£", 2),
        ["KRW"] = ("₩", 0), ["HKD"] = ("HK$", 2), ["SGD"] = ("S$", 2), ["CNY"] = ("CN¥", 2), ["AUD"] = ("A$", 2), ["CAD"] = ("CA$", 2),
        ["MYR"] = ("RM", 2), ["IDR"] = ("Rp", 0), ["VND"] = ("₫", 0), ["PHP"] = ("₱", 2),
    };

    /// <summary>Whether <paramref name="code"/> is three upper-case letters, the shape of an ISO 4217 code.</summary>
    public static bool IsCurrencyCode(string? code) => code is { Length: 3 } && code.All(char.IsAsciiLetterUpper);

    public static string Format(decimal amount, string currency)
    {
        var (symbol, decimals) = Known.TryGetValue(currency, out var known) ? known : (currency + " ", 2);
        var rounded = Math.Round(amount, decimals, MidpointRounding.AwayFromZero);
        return symbol + rounded.ToString("N" + decimals, CultureInfo.InvariantCulture);
    }
}
