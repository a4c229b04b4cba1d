using System.Security.Cryptography;
using System.Text;

namespace Lumo.Functions.Admin;

/// <summary>Who made an admin change, for the records that keep it (key reissues, erasures): never the key itself.</summary>
internal static class AdminIdentity
{
    /// <summary>A fingerprint of the admin key used, or "admin" when the Functions host checked its own key.</summary>
    public static string Of(HttpRequest request) =>
        (request.Headers["x-functions-key"].FirstOrDefault() ?? request.Query["code"].FirstOrDefault()) is { Length: > 0 } key
            ? "admin key " + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8].ToLowerInvariant()
            : "admin";
}
