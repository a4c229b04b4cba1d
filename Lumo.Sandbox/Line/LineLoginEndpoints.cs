using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Lumo.Sandbox.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Lumo.Sandbox.Line;

/// <summary>LINE Login's error shape (OAuth 2.0: <c>{"error","error_description"}</c>); no bearer auth on its endpoints.</summary>
public sealed class LineLoginVendor : ISimulatedVendor
{
    public string Name => "line-login";
    public bool Owns(PathString path) => path.StartsWithSegments("/oauth2/v2.1");
    public Specs.SpecDocument? Spec => null;
    public string MediaType => "application/json";
    public string? Authenticate(HttpContext context) => "login"; // clients authenticate with their channel secret in the form
    public RateLimit? LimitFor(string method, string pathTemplate) => null;

    public IResult Error(int status, string message, IReadOnlyList<string>? details = null, TimeSpan? retryAfter = null) =>
        JsonBodies.Json(new JsonObject { ["error"] = status == 401 ? "invalid_client" : "invalid_request", ["error_description"] = message }, status, "application/json", retryAfter);
}

/// <summary>
/// The simulated LINE Login v2.1 (https://developers.line.biz/en/reference/line-login/): authorize (the browser
/// step; pass <c>sandbox_user</c> to pick who logs in, or choose on the page), token exchange with PKCE, and ID token
/// verification. ID tokens are HS256 JWTs signed with the channel secret, as LINE Login issues them for web apps.
/// </summary>
public static class LineLoginEndpoints
{
    private static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(10);

    public static IEndpointRouteBuilder MapLineLogin(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/oauth2/v2.1/authorize", Authorize);
        routes.MapPost("/oauth2/v2.1/token", Token);
        routes.MapPost("/oauth2/v2.1/verify", Verify);
        return routes;
    }

    private static IResult Authorize(HttpRequest request, LineState state, LineLoginVendor vendor)
    {
        var q = request.Query;
        string? clientId = q["client_id"], redirectUri = q["redirect_uri"], stateParam = q["state"];
        if (q["response_type"] != "code" || clientId is null || !state.LoginChannels.ContainsKey(clientId) || string.IsNullOrEmpty(redirectUri)
            || string.IsNullOrEmpty(stateParam) || !(q["scope"].ToString().Split(' ').Contains("openid")))
            return vendor.Error(400, "response_type=code, a known client_id, redirect_uri, state and scope including openid are required.");
        if (q["code_challenge"].Count > 0 && q["code_challenge_method"] != "S256")
            return vendor.Error(400, "code_challenge_method must be S256.");

        if (q["sandbox_user"].ToString() is not { Length: > 0 } userId)
            return Results.Content(ChooserPage(request, state), "text/html; charset=utf-8");
        if (!state.Users.ContainsKey(userId))
            return vendor.Error(400, $"Unknown sandbox user {userId}.");

        var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        state.LoginCodes[code] = new LoginGrant(code, clientId, userId, redirectUri, q["nonce"], q["code_challenge"], DateTimeOffset.UtcNow + CodeLifetime);
        return Results.Redirect(QueryHelpers.AddQueryString(redirectUri, new Dictionary<string, string?>
        {
            ["code"] = code,
            ["state"] = stateParam,
            ["friendship_status_changed"] = "false",
        }));
    }

    private static string ChooserPage(HttpRequest request, LineState state)
    {
        var links = string.Join("", state.Users.Values.OrderBy(u => u.DisplayName).Select(u =>
            $"<li><a href=\"{WebUtility.HtmlEncode(request.Path + QueryHelpers.AddQueryString(request.QueryString.Value ?? "", "sandbox_user", u.UserId))}\">{WebUtility.HtmlEncode(u.DisplayName)}</a></li>"));
        return $"<!doctype html><meta name=viewport content='width=device-width'><title>LINE Login (sandbox)</title><h1>Log in to LINE (sandbox)</h1><p>Choose who logs in:</p><ul>{links}</ul>";
    }

    private static async Task<IResult> Token(HttpRequest request, LineState state, LineLoginVendor vendor)
    {
        var form = await request.ReadFormAsync();
        if (form["grant_type"] != "authorization_code")
            return vendor.Error(400, "unsupported grant_type");
        if (!state.LoginChannels.TryGetValue(form["client_id"].ToString(), out var channel) || channel.ChannelSecret != form["client_secret"])
            return vendor.Error(401, "client authentication failed");
        // A code is good for one exchange only, whatever the outcome.
        if (!state.LoginCodes.TryRemove(form["code"].ToString(), out var grant) || grant.ExpiresAt < DateTimeOffset.UtcNow
            || grant.ChannelId != channel.ChannelId || grant.RedirectUri != form["redirect_uri"])
            return JsonBodies.Json(new JsonObject { ["error"] = "invalid_grant", ["error_description"] = "invalid authorization code" }, 400, "application/json");
        if (grant.CodeChallenge is not null)
        {
            var verifier = form["code_verifier"].ToString();
            var challenge = WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
            if (challenge != grant.CodeChallenge)
                return JsonBodies.Json(new JsonObject { ["error"] = "invalid_grant", ["error_description"] = "code_verifier does not match" }, 400, "application/json");
        }
        var user = state.Users[grant.UserId];
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["iss"] = "https://access.line.me",
            ["sub"] = user.UserId,
            ["aud"] = channel.ChannelId,
            ["exp"] = now + 3600,
            ["iat"] = now,
            ["amr"] = new JsonArray("pwd"),
            ["name"] = user.DisplayName,
        };
        if (grant.Nonce is not null) claims["nonce"] = grant.Nonce;
        return Results.Json(new JsonObject
        {
            ["access_token"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)),
            ["expires_in"] = 2_592_000,
            ["id_token"] = SignIdToken(claims, channel.ChannelSecret),
            ["refresh_token"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)),
            ["scope"] = "openid profile",
            ["token_type"] = "Bearer",
        });
    }

    private static async Task<IResult> Verify(HttpRequest request, LineState state, LineLoginVendor vendor)
    {
        var form = await request.ReadFormAsync();
        var token = form["id_token"].ToString();
        var parts = token.Split('.');
        if (!state.LoginChannels.TryGetValue(form["client_id"].ToString(), out var channel) || parts.Length != 3)
            return vendor.Error(400, "Invalid IdToken.");
        var expected = WebEncoders.Base64UrlEncode(HMACSHA256.HashData(Encoding.UTF8.GetBytes(channel.ChannelSecret), Encoding.ASCII.GetBytes(parts[0] + "." + parts[1])));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(parts[2])))
            return vendor.Error(400, "Invalid IdToken Signature.");
        var claims = JsonNode.Parse(WebEncoders.Base64UrlDecode(parts[1]))!.AsObject();
        if (claims["aud"]?.GetValue<string>() != channel.ChannelId)
            return vendor.Error(400, "Invalid IdToken Audience.");
        if (claims["exp"]!.GetValue<long>() < DateTimeOffset.UtcNow.ToUnixTimeSeconds())
            return vendor.Error(400, "IdToken expired.");
        if (form["nonce"].Count > 0 && claims["nonce"]?.GetValue<string>() != form["nonce"])
            return vendor.Error(400, "Invalid IdToken Nonce.");
        return Results.Json(claims);
    }

    internal static string SignIdToken(JsonObject claims, string secret)
    {
        var header = WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes("{\"typ\":\"JWT\",\"alg\":\"HS256\"}"));
        var payload = WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = WebEncoders.Base64UrlEncode(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(header + "." + payload)));
        return $"{header}.{payload}.{signature}";
    }
}
