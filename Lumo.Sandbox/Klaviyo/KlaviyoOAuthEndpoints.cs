using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Lumo.Sandbox.Klaviyo;

/// <summary>
/// The simulated Klaviyo OAuth (https://developers.klaviyo.com/en/docs/set_up_oauth): the consent screen at
/// <c>/oauth/authorize</c> (PKCE S256 and state required; the redirect URI must be registered), and
/// <c>/oauth/token</c> and <c>/oauth/revoke</c> with Basic client authentication and form bodies. Access tokens last
/// an hour; refresh tokens are rotated on every refresh (the old one stops working, so a client must store what
/// comes back), die after 90 days unused, and on revocation or uninstall (<c>invalid_grant</c>).
/// </summary>
public static class KlaviyoOAuthEndpoints
{
    public static IEndpointRouteBuilder MapKlaviyoOAuth(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/oauth/authorize", ShowConsent);
        routes.MapPost("/oauth/authorize", Decide).DisableAntiforgery();
        routes.MapPost("/oauth/token", Token).DisableAntiforgery();
        routes.MapPost("/oauth/revoke", Revoke).DisableAntiforgery();
        return routes;
    }

    private static IResult ShowConsent(HttpContext context, KlaviyoState klaviyo)
    {
        var oauth = klaviyo.OAuth;
        var query = context.Request.Query;
        if (CheckRequest(oauth, query["client_id"], query["redirect_uri"], query["response_type"], query["code_challenge"], query["code_challenge_method"], query["state"], query["scope"]) is { } problem)
            return Page(400, $"<p>{WebUtility.HtmlEncode(problem)}</p>");
        var hidden = string.Concat(new[] { "client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "state", "scope" }
            .Select(name => $"<input type=\"hidden\" name=\"{name}\" value=\"{WebUtility.HtmlEncode(query[name])}\">"));
        var accounts = string.Concat(klaviyo.AccountsById.Values.Select(a => $"<option value=\"{a.Id}\">{WebUtility.HtmlEncode(a.OrganizationName)}</option>"));
        return Page(200, $"""
            <p>An app asks for: {WebUtility.HtmlEncode(query["scope"])}</p>
            <form method="post" action="/oauth/authorize">{hidden}
              <label>Account <select name="account_id">{accounts}</select></label>
              <button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Deny</button>
            </form>
            """);
    }

    private static async Task<IResult> Decide(HttpContext context, KlaviyoState klaviyo)
    {
        var oauth = klaviyo.OAuth;
        var form = await context.Request.ReadFormAsync();
        string? redirectUri = form["redirect_uri"], state = form["state"];
        if (CheckRequest(oauth, form["client_id"], redirectUri, form["response_type"], form["code_challenge"], form["code_challenge_method"], state, form["scope"]) is { } problem)
            return Page(400, $"<p>{WebUtility.HtmlEncode(problem)}</p>");
        var separator = redirectUri!.Contains('?') ? '&' : '?';
        if (form["decision"] != "allow")
            return Results.Redirect($"{redirectUri}{separator}error=access_denied&error_description={Uri.EscapeDataString("The user denied the request.")}&state={Uri.EscapeDataString(state!)}");
        if (!klaviyo.AccountsById.ContainsKey(form["account_id"].ToString())) return Page(400, "<p>Choose an account.</p>");
        var code = NewToken();
        oauth.Codes[code] = new OAuthCode(code, form["client_id"]!, form["account_id"]!, redirectUri, form["code_challenge"]!, form["scope"]!, DateTimeOffset.UtcNow + KlaviyoOAuthState.CodeLifetime);
        return Results.Redirect($"{redirectUri}{separator}code={code}&state={Uri.EscapeDataString(state!)}");
    }

    private static string? CheckRequest(KlaviyoOAuthState oauth, string? clientId, string? redirectUri, string? responseType, string? challenge, string? method, string? state, string? scope)
    {
        if (clientId is null || !oauth.Apps.TryGetValue(clientId, out var app)) return "Unknown client_id.";
        if (redirectUri is null || !app.RedirectUris.Contains(redirectUri)) return "The redirect_uri is not registered for this app.";
        if (responseType != "code") return "response_type must be code.";
        if (string.IsNullOrEmpty(challenge) || method != "S256") return "PKCE is required: code_challenge with code_challenge_method S256.";
        if (string.IsNullOrEmpty(state)) return "state is required.";
        if (string.IsNullOrWhiteSpace(scope)) return "scope is required.";
        return null;
    }

    private static async Task<IResult> Token(HttpContext context, KlaviyoState klaviyo)
    {
        var oauth = klaviyo.OAuth;
        if (ClientOf(context, oauth) is not { } app) return OAuthError(401, "invalid_client", "Client authentication failed.");
        var form = await context.Request.ReadFormAsync();
        var grantType = form["grant_type"].ToString();
        oauth.TokenRequests.AddOrUpdate($"{grantType}:{app.ClientId}", 1, (_, n) => n + 1);
        OAuthGrant grant;
        switch (grantType)
        {
            case "authorization_code":
                var code = form["code"].ToString();
                if (!oauth.Codes.TryRemove(code, out var issued) || issued.ClientId != app.ClientId || issued.ExpiresAt < DateTimeOffset.UtcNow
                    || issued.RedirectUri != form["redirect_uri"] || Challenge(form["code_verifier"].ToString()) != issued.CodeChallenge)
                    return OAuthError(400, "invalid_grant", "The authorization code is invalid, expired, used, or does not match the code verifier.");
                grant = new OAuthGrant(app.ClientId, issued.AccountId, issued.Scope, NewToken());
                break;
            case "refresh_token":
                if (!oauth.GrantsByRefreshToken.TryGetValue(form["refresh_token"].ToString(), out var known)) return OAuthError(400, "invalid_grant", "The refresh token is unknown.");
                lock (known) // check and rotate as one step: two refreshes with the same token, only the first succeeds
                {
                    if (known.ClientId != app.ClientId || known.Revoked || known.RefreshToken != form["refresh_token"]
                        || DateTimeOffset.UtcNow - known.LastUsed > KlaviyoOAuthState.RefreshTokenIdleLifetime)
                        return OAuthError(400, "invalid_grant", "The refresh token is invalid, expired or revoked.");
                    known.RefreshToken = NewToken(); // rotated: the old one no longer works
                    known.LastUsed = DateTimeOffset.UtcNow;
                }
                grant = known;
                break;
            default:
                return OAuthError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.");
        }
        grant.LastUsed = DateTimeOffset.UtcNow;
        oauth.GrantsByRefreshToken[grant.RefreshToken] = grant;
        var access = new OAuthAccessToken(NewToken(), grant, DateTimeOffset.UtcNow + KlaviyoOAuthState.AccessTokenLifetime);
        oauth.AccessTokens[access.Token] = access;
        return Results.Json(new JsonObject
        {
            ["access_token"] = access.Token, ["token_type"] = "Bearer", ["expires_in"] = (int)KlaviyoOAuthState.AccessTokenLifetime.TotalSeconds,
            ["refresh_token"] = grant.RefreshToken, ["scope"] = grant.Scope,
        });
    }

    private static async Task<IResult> Revoke(HttpContext context, KlaviyoState klaviyo)
    {
        var oauth = klaviyo.OAuth;
        if (ClientOf(context, oauth) is not { } app) return OAuthError(401, "invalid_client", "Client authentication failed.");
        var token = (await context.Request.ReadFormAsync())["token"].ToString();
        var grant = oauth.GrantsByRefreshToken.TryGetValue(token, out var byRefresh) ? byRefresh
            : oauth.AccessTokens.TryGetValue(token, out var byAccess) ? byAccess.Grant : null;
        if (grant is not null && grant.ClientId == app.ClientId)
        {
            grant.Revoked = true;
            oauth.Revocations.AddOrUpdate(grant.AccountId, 1, (_, n) => n + 1);
        }
        return Results.Ok(); // RFC 7009: an unknown token is not an error
    }

    /// <summary>The account and app an access token names, or null when it is unknown, expired, or its grant revoked.</summary>
    public static OAuthAccessToken? Authenticate(KlaviyoOAuthState oauth, string token) =>
        oauth.AccessTokens.TryGetValue(token, out var access) && access.ExpiresAt > DateTimeOffset.UtcNow && !access.Grant.Revoked ? access : null;

    private static OAuthApp? ClientOf(HttpContext context, KlaviyoOAuthState oauth)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.Ordinal)) return null;
        string decoded;
        try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..])); }
        catch (FormatException) { return null; }
        var parts = decoded.Split(':', 2);
        return parts.Length == 2 && oauth.Apps.TryGetValue(parts[0], out var app)
               && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(app.ClientSecret), Encoding.UTF8.GetBytes(parts[1])) ? app : null;
    }

    private static string Challenge(string verifier) => Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    private static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static IResult OAuthError(int status, string error, string description) =>
        Results.Json(new JsonObject { ["error"] = error, ["error_description"] = description }, statusCode: status);

    private static IResult Page(int status, string body) =>
        Results.Content($"<!doctype html><html><head><title>Klaviyo (sandbox)</title></head><body><h1>Connect an app to Klaviyo</h1>{body}</body></html>", "text/html", statusCode: status);
}
