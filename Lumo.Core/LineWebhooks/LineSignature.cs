using System.Security.Cryptography;
using System.Text;

namespace Lumo.Core.LineWebhooks;

/// <summary>
/// LINE signs each webhook with <c>x-line-signature</c> = base64(HMAC-SHA256(channel secret, raw body bytes))
/// (https://developers.line.biz/en/reference/messaging-api/#signature-validation). Checked on the bytes as
/// received — never on re-serialised JSON — and compared in constant time.
/// </summary>
public static class LineSignature
{
    public static bool IsValid(string channelSecret, ReadOnlySpan<byte> body, string? signature)
    {
        if (string.IsNullOrEmpty(signature)) return false;
        Span<byte> presented = stackalloc byte[64];
        if (!Convert.TryFromBase64String(signature, presented, out var length) || length != 32) return false;
        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(channelSecret), body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, presented[..length]);
    }
}
