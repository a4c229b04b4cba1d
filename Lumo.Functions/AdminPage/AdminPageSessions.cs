using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Lumo.Core.Friends;
using Lumo.Core.Storage;
using Lumo.Functions.Admin;
using Lumo.Functions.Hosting;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Lumo.Functions.AdminPage;

/// <summary>A signed-in admin page session.</summary>
/// <param name="Identity">Who signed in, as admin changes record it (a key fingerprint, never the key).</param>
/// <param name="AntiForgeryToken">Every form of the session carries it; a change without it is refused.</param>
/// <param name="EntraUser">The Entra user App Service Authentication had signed in, when the admin page requires one.</param>
public sealed record AdminPageSession(string Id, string Identity, string? EntraUser, DateTimeOffset SignedInAt, DateTimeOffset ExpiresAt, string AntiForgeryToken);

/// <summary>
/// Sessions of the admin page, kept in a cookie signed with a key derived from the deployment's issued key, so any
/// instance can check them. The admin key itself never reaches the cookie, a URL or the browser's storage: it is sent
/// once, in a header, to <c>POST /api/manage/session</c>. What is stored: sessions signed out before they expired
/// (table OperationsStatus, partition <c>admin-page-sessions</c>, one row per session id until its latest expiry) and
/// the time before which every session is void (row <c>~everyone</c>), read on each page view.
/// </summary>
public sealed class AdminPageSessions(ContactIndexKey keys, LumoTables tables, TimeProvider clock, HostingMode mode, IOptions<AdminKeyOptions> adminKey)
{
    public const string CookieName = "lumo-admin-page";
    /// <summary>How long a session lives without use; each page view within it extends it, up to <see cref="MaximumLifetime"/>.</summary>
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan MaximumLifetime = TimeSpan.FromHours(8);
    private const string KeyPurpose = "admin-page-session";
    private const string Partition = "admin-page-sessions";
    private const string EveryoneRow = "~everyone";

    /// <param name="At">Signed in at, Unix milliseconds (so "every session until now" cannot catch one opened the same second after it).</param>
    /// <param name="Exp">Expires at, Unix seconds.</param>
    /// <param name="Key">The fingerprint of the admin key that signed in.</param>
    /// <param name="Entra">The Entra user who signed in (behind the optional Entra gate).</param>
    private sealed record Claims(string Id, string By, string Key, string? Entra, long At, long Exp)
    {
        [System.Text.Json.Serialization.JsonIgnore] public DateTimeOffset SignedInAt => DateTimeOffset.FromUnixTimeMilliseconds(At);
    }

    /// <summary>
    /// A new session for the admin key the request carries (and the Entra user App Service Authentication signed in,
    /// when there is one), written to the response as its cookie.
    /// </summary>
    public async Task<AdminPageSession> SignInAsync(HttpContext http, string? entraUser, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var key = AdminIdentity.Of(http.Request);
        var claims = new Claims(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), entraUser is { Length: > 0 } ? $"{key}, Entra {entraUser}" : key, key,
            entraUser, now.ToUnixTimeMilliseconds(), (now + IdleLifetime).ToUnixTimeSeconds());
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
        if (claims is null || now.ToUnixTimeSeconds() >= claims.Exp || now - claims.SignedInAt >= MaximumLifetime) return null;
        // Standalone, a session ends with the admin key that opened it (under the Functions host we never see the host's keys).
        if (mode.IsStandalone && claims.Key != AdminIdentity.OfKey(adminKey.Value.Key ?? "")) return null;
        if (await IsSignedOutAsync(claims, ct)) return null;
        if (DateTimeOffset.FromUnixTimeSeconds(claims.Exp) - now < IdleLifetime / 2)
        {
            var extended = Math.Min((now + IdleLifetime).ToUnixTimeSeconds(), (claims.SignedInAt + MaximumLifetime).ToUnixTimeSeconds());
            return await WriteAsync(http, claims with { Exp = extended }, ct);
        }
        return Session(claims, key);
    }

    /// <summary>
    /// Ends the session on every instance (not only in this browser: a copied cookie stops working too), or with
    /// <paramref name="everyone"/> every session signed in until now, for when the admin key may have leaked.
    /// </summary>
    public async Task SignOutAsync(HttpContext http, AdminPageSession session, bool everyone, CancellationToken ct)
    {
        var table = await tables.GetAsync(TableNames.OperationsStatus, ct);
        var now = clock.GetUtcNow();
        await table.UpsertEntityAsync(new TableEntity(Partition, session.Id) { ["ExpiresAt"] = session.SignedInAt + MaximumLifetime }, TableUpdateMode.Replace, ct);
        if (everyone) await table.UpsertEntityAsync(new TableEntity(Partition, EveryoneRow) { ["NotBefore"] = now }, TableUpdateMode.Replace, ct);
        http.Response.Cookies.Delete(CookieName, CookieOptions(http, TimeSpan.Zero));
        // Rows of sessions that would have expired anyway are not needed any more (the ~everyone row has no ExpiresAt).
        await foreach (var expired in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and ExpiresAt lt {now}"),
                           select: ["PartitionKey", "RowKey"], cancellationToken: ct))
            await table.DeleteEntityAsync(expired, Azure.ETag.All, ct);
    }

    private async Task<bool> IsSignedOutAsync(Claims claims, CancellationToken ct)
    {
        var table = await tables.GetAsync(TableNames.OperationsStatus, ct);
        var mine = table.GetEntityIfExistsAsync<TableEntity>(Partition, claims.Id, select: ["PartitionKey"], cancellationToken: ct);
        var everyone = table.GetEntityIfExistsAsync<TableEntity>(Partition, EveryoneRow, cancellationToken: ct);
        return (await mine).HasValue || (await everyone) is { HasValue: true } all && all.Value!.GetDateTimeOffset("NotBefore") >= claims.SignedInAt;
    }

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

    private static AdminPageSession Session(Claims claims, byte[] key) => new(claims.Id, claims.By, claims.Entra, claims.SignedInAt,
        DateTimeOffset.FromUnixTimeSeconds(claims.Exp), WebEncoders.Base64UrlEncode(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes("anti-forgery\n" + claims.Id))));

    // HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it; Secure under the Functions host
    // (Azure serves the page over HTTPS, whatever scheme reaches us from the host) and whenever the request is HTTPS;
    // scoped to the admin page's paths.
    private CookieOptions CookieOptions(HttpContext http, TimeSpan lifetime) => new()
    {
        HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = mode.IsUnderFunctionsHost || http.Request.IsHttps, Path = AdminPageEndpoints.RoutePrefix,
        MaxAge = lifetime > TimeSpan.Zero ? lifetime : null, IsEssential = true,
    };
}
