using System.Security.Cryptography;
using System.Text;
using Lumo.Functions.AdminPage;

namespace Lumo.Functions.Admin;

/// <summary>Who made an admin change, for the records that keep it (key reissues, erasures): never the key itself.</summary>
internal static class AdminIdentity
{
    /// <summary>
    /// A fingerprint of the admin key used (also when it signed in the admin page session making the change), or
    /// "admin" when the Functions host checked its own key.
    /// </summary>
    public static string Of(HttpRequest request) =>
        request.HttpContext.Items[typeof(AdminPageSession)] is AdminPageSession session ? session.Identity + " (admin page)"
        : (request.Headers["x-functions-key"].FirstOrDefault() ?? request.Query["code"].FirstOrDefault()) is { Length: > 0 } key ? OfKey(key)
        : "admin";

    public static string OfKey(string key) => "admin key " + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8].ToLowerInvariant();
}
