using System.Security.Cryptography;
using System.Text;

namespace Lumo.Core.Shopify;

/// <summary>
/// Shopify's two signatures, both HMAC-SHA256 with the app's client secret, compared in constant time:
/// the <c>hmac</c> of an install or callback query (hex, over the other parameters sorted as <c>key=value</c> joined
/// by <c>&amp;</c>) and the <c>X-Shopify-Hmac-Sha256</c> of a webhook (Base64, over the raw body)
/// (https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook).
/// </summary>
public static class ShopifySignatures
{
    public static bool IsValidQuery(IEnumerable<KeyValuePair<string, string>> parameters, string secret)
    {
        var list = parameters.ToList();
        var given = list.Where(p => p.Key == "hmac").Select(p => p.Value).ToList();
        if (given.Count != 1 || given[0].Length != 64) return false;
        var message = string.Join('&', list.Where(p => p.Key is not ("hmac" or "signature")).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(message));
        try
        {
            return CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(given[0]));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static bool IsValidBody(ReadOnlySpan<byte> body, string? header, string secret)
    {
        if (string.IsNullOrEmpty(header)) return false;
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        Span<byte> given = stackalloc byte[64];
        return Convert.TryFromBase64String(header, given, out var length) && CryptographicOperations.FixedTimeEquals(expected, given[..length]);
    }
}
