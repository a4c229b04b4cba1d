using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Lumo.Core.Tracking;

namespace Lumo.Core.ProductCards;

/// <summary>
/// One product on a card, however it came (a Flow's trigger event, a fallback the merchant typed, later a Shopify
/// feed). Built only through <see cref="Create"/>, which cleans what events carry: HTML in names, prices as money
/// strings, protocol-relative or non-HTTPS image URLs.
/// </summary>
public sealed partial record Product
{
    /// <summary>Names longer than this many user-perceived characters are cut (LINE shows two lines of a card's name).</summary>
    public const int MaxNameGraphemes = 40;

    public required string Name { get; init; }
    /// <summary>Where the card's button leads: an absolute http(s) URL of at most 1,000 characters, or null.</summary>
    public string? Url { get; init; }
    /// <summary>An HTTPS JPEG or PNG image LINE can show, or null (the card shows a placeholder).</summary>
    public string? ImageUrl { get; init; }
    public decimal? Price { get; init; }
    /// <summary>The price before a sale; shown struck through when above <see cref="Price"/>.</summary>
    public decimal? CompareAtPrice { get; init; }

    /// <summary>A product from raw texts, or null when it has no name to show.</summary>
    public static Product? Create(string? name, string? url, string? imageUrl, string? price, string? compareAtPrice = null)
    {
        // Names are cut long before cleaning, so an event's huge text costs nothing to clean.
        var cleanName = CleanText(name is { Length: > 1_000 } ? name[..1_000] : name);
        if (cleanName.Length == 0) return null;
        return new Product
        {
            Name = Cut(cleanName, MaxNameGraphemes),
            Url = LinkOrNull(url),
            ImageUrl = ImageOrNull(imageUrl),
            Price = ParsePrice(price),
            CompareAtPrice = ParsePrice(compareAtPrice),
        };
    }

    /// <summary>Text as LINE should show it: tags removed, entities decoded, runs of white space (newlines too) made one space.</summary>
    public static string CleanText(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return "";
        var decoded = WebUtility.HtmlDecode(Tag().Replace(text, " "));
        return Space().Replace(decoded, " ").Trim();
    }

    /// <summary>
    /// At most <paramref name="graphemes"/> user-perceived characters, cut between grapheme clusters (an emoji with
    /// its modifiers or a letter with its marks is never split) and ended with "…" when cut.
    /// </summary>
    public static string Cut(string text, int graphemes)
    {
        var boundaries = StringInfo.ParseCombiningCharacters(text); // where each grapheme cluster starts
        return boundaries.Length <= graphemes ? text : text[..boundaries[graphemes - 1]] + "…";
    }

    /// <summary>At most <paramref name="length"/> UTF-16 characters (LINE counts those), cut between grapheme clusters and ended with "…" when cut.</summary>
    public static string CutToLength(string text, int length)
    {
        if (text.Length <= length) return text;
        var end = StringInfo.ParseCombiningCharacters(text).Last(start => start <= length - 1);
        return text[..end] + "…";
    }

    /// <summary>
    /// A price from a number or a money string ("¥1,200", "$29.99", "29,99 €", "1.200,50"): the last '.' or ',' is the
    /// decimal separator when two or fewer digits follow it. Null when there is no number in it.
    /// </summary>
    public static decimal? ParsePrice(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        // A plain number (what a JSON number or a Shopify amount renders as) is read as it is: "12.500" is twelve and a half.
        if (PlainNumber().IsMatch(text.Trim()))
            return decimal.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var plain) ? Math.Round(plain, 4) : null; // a float's artefacts go
        var digits = new StringBuilder();
        foreach (var c in text.Trim()) if (char.IsAsciiDigit(c) || c is '.' or ',') digits.Append(c);
        var number = digits.ToString().Trim('.', ',');
        if (number.Length == 0) return null;
        var separator = number.LastIndexOfAny(['.', ',']);
        var decimals = separator < 0 ? "" : number[(separator + 1)..];
        var whole = separator < 0 || decimals.Length > 2 ? number : number[..separator];
        if (separator >= 0 && decimals.Length > 2) decimals = "";
        var value = new string(whole.Where(char.IsAsciiDigit).ToArray()) + (decimals.Length > 0 ? "." + decimals : "");
        return decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price) && value.Length <= 20 ? price : null;
    }

    /// <summary>The URL when it is an absolute http(s) URL of at most 1,000 characters (LINE's limit for a link), else null.</summary>
    public static string? LinkOrNull(string? url) =>
        Absolute(url) is { Length: <= 4_000 } candidate && TrackedLinks.AsciiUrl(candidate) is { Length: <= 1_000 } ascii ? ascii : null;

    // LINE shows HTTPS JPEG and PNG images only (https://developers.line.biz/en/reference/messaging-api/#f-image).
    private static string? ImageOrNull(string? url)
    {
        // LINE takes URLs in ASCII: an international host as punycode, other characters escaped.
        if (Absolute(url) is not { Length: <= 4_000 } candidate || TrackedLinks.AsciiUrl(candidate) is not { Length: <= 2_000 } ascii) return null;
        var uri = new Uri(ascii);
        if (uri.Scheme != Uri.UriSchemeHttps) return null;
        var path = uri.AbsolutePath;
        return path.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase)
            || path.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? ascii : null;
    }

    // Shopify's events carry image URLs without a scheme ("//cdn.shopify.com/…").
    private static string? Absolute(string? url) =>
        string.IsNullOrWhiteSpace(url) ? null : url.Trim() is var trimmed && trimmed.StartsWith("//", StringComparison.Ordinal) ? "https:" + trimmed : url.Trim();

    [GeneratedRegex(@"^[0-9]{1,18}(\.[0-9]{1,20})?$")]
    private static partial Regex PlainNumber();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Space();
}
