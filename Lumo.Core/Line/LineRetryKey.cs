using System.Security.Cryptography;
using System.Text;

namespace Lumo.Core.Line;

/// <summary>
/// Deterministic <c>X-Line-Retry-Key</c>s: a UUID (version 8, name-based on SHA-256) of a name, so that every attempt
/// at the same send carries the same key, which LINE accepts once within 24 hours
/// (https://developers.line.biz/en/reference/messaging-api/#retry-api-request).
/// </summary>
public static class LineRetryKey
{
    public static Guid Of(string name)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(name))[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // version 8
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes, bigEndian: true);
    }
}
