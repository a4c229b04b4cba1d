using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lumo.Core.Friends;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.WebUtilities;

namespace Lumo.Functions.AdminPage;

/// <summary>A signed-in admin page session.</summary>
/// <param name="Identity">Who signed in, as admin changes record it (a key fingerprint, never the key).</param>
/// <param name="AntiForgeryToken">Every form of the session carries it; a change without it is refused.</param>
public sealed record AdminPageSession(string Id, string Identity, DateTimeOffset SignedInAt, DateTimeOffset ExpiresAt, string AntiForgeryToken);

/// <summary>
/// Sessions of the admin page, kept in a cookie signed with a key derived from the deployment's issued key, so any
/// instance can check them and nothing is stored per session. The admin key itself never reaches the cookie, a URL or
/// the browser's storage: it is sent once, in a header, to <c>POST /api/manage/session</c>.
/// </summary>
public sealed class AdminPageSessions(ContactIndexKey keys, TimeProvider clock)
{
    public const string CookieName = "lumo-admin-page";
    /// <summary>How long a session lives without use; each page view within it extends it, up to <see cref="MaximumLifetime"/>.</summary>
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan MaximumLifetime = TimeSpan.FromHours(8);
    private const string KeyPurpose = "admin-page-session";

    private sealed record Claims(string Id, string By, long At, long Exp);

    /// <summary>A new session for <paramref name="identity"/>, written to the response as its cookie.</summary>
    public async Task<AdminPageSession> SignInAsync(HttpContext http, string identity, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var claims = new Claims(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), identity, now.ToUnixTimeSeconds(), (now + IdleLifetime).ToUnixTimeSeconds());
        return await WriteAsync(http, claims, ct);
    }

    /// <summary>The request's session, extended when half its idle lifetime has passed; null when absent, forged or expired.</summary>
    public async Task<AdminPageSession?> ReadAsync(HttpContext http, CancellationToken ct)
    {
        if (http.Request.Cookies[CookieName] is not { Length: > 0 and < 1000 } cookie || cookie.Split('.') is not [var payload, var signature]) return null;
        var key = await keys.DerivedKeyAsync(KeyPurpose, ct);
        byte[] presented;
        try { presented = WebEncoders.Base64UrlDecode(signature); }
        catch (FormatException) { return null; }
        if (!CryptographicOperations.FixedTimeEquals(presented, HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(payload)))) return null;
        var claims = JsonSerializer.Deserialize<Claims>(WebEncoders.Base64UrlDecode(payload));
        var now = clock.GetUtcNow();
        if (claims is null || now.ToUnixTimeSeconds() >= claims.Exp || now - DateTimeOffset.FromUnixTimeSeconds(claims.At) >= MaximumLifetime) return null;
        if (DateTimeOffset.FromUnixTimeSeconds(claims.Exp) - now < IdleLifetime / 2)
        {
            var extended = Math.Min((now + IdleLifetime).ToUnixTimeSeconds(), claims.At + (long)MaximumLifetime.TotalSeconds);
            return await WriteAsync(http, claims with { Exp = extended }, ct);
        }
        return Session(claims, key);
    }

    public static void SignOut(HttpResponse response) => response.Cookies.Delete(CookieName, CookieOptions(response.HttpContext, TimeSpan.Zero));

    /// <summary>True when the presented anti-forgery token is the session's (constant-time comparison).</summary>
    public static bool IsAntiForgeryTokenValid(AdminPageSession session, string? presented) =>
        presented is { Length: > 0 } && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(presented), Encoding.ASCII.GetBytes(session.AntiForgeryToken));

    private async Task<AdminPageSession> WriteAsync(HttpContext http, Claims claims, CancellationToken ct)
    {
        var key = await keys.DerivedKeyAsync(KeyPurpose, ct);
        var payload = WebEncoders.Base64UrlEncode(JsonSerializer.SerializeToUtf8Bytes(claims));
        var cookie = payload + "." + WebEncoders.Base64UrlEncode(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(payload)));
        http.Response.Cookies.Append(CookieName, cookie, CookieOptions(http, DateTimeOffset.FromUnixTimeSeconds(claims.Exp) - clock.GetUtcNow()));
        return Session(claims, key);
    }

    private static AdminPageSession Session(Claims claims, byte[] key) => new(claims.Id, claims.By, DateTimeOffset.FromUnixTimeSeconds(claims.At),
        DateTimeOffset.FromUnixTimeSeconds(claims.Exp), WebEncoders.Base64UrlEncode(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes("anti-forgery\n" + claims.Id))));

    // HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it; Secure whenever the page is on HTTPS
    // (behind Azure's front ends the forwarded scheme says so); scoped to the admin page's paths.
    private static CookieOptions CookieOptions(HttpContext http, TimeSpan lifetime) => new()
    {
        HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = http.Request.IsHttps, Path = AdminPageEndpoints.RoutePrefix,
        MaxAge = lifetime > TimeSpan.Zero ? lifetime : null, IsEssential = true,
    };
}
