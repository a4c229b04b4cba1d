using System.Security.Cryptography;
using System.Text;

namespace Lumo.Functions.IdLinkage;

/// <summary>
/// Binds a linking attempt to the browser that started it: the landing sets a cookie named after a hash of the
/// attempt's state (HttpOnly, SameSite=Lax so that LINE Login's redirect back carries it, Secure on HTTPS, only for
/// /api/link), and the callback requires it. A state that reaches another browser is refused. One cookie per attempt,
/// so two tabs do not disturb each other; it expires with the attempt (a replayed callback then meets a used-up state).
/// </summary>
public static class BrowserBinding
{
    private const string Path = "/api/link";

    public static void Bind(HttpContext context, string state, TimeSpan lifetime) =>
        context.Response.Cookies.Append(CookieName(state), "1", new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = context.Request.IsHttps, Path = Path, MaxAge = lifetime, IsEssential = true,
        });

    public static bool IsBound(HttpContext context, string? state) =>
        !string.IsNullOrEmpty(state) && context.Request.Cookies.ContainsKey(CookieName(state));

    private static string CookieName(string state) =>
        "lumo-link-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(state)))[..16];
}
