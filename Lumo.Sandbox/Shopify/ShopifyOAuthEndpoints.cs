using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lumo.Sandbox.Shopify;

/// <summary>
/// The simulated Shopify app install (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant):
/// the grant screen at <c>/shopify/{shop}/admin/oauth/authorize</c> (the redirect URI must be one of the app's allowed
/// URLs), then a redirect with <c>code, hmac, host, shop, state, timestamp</c> signed with the app's secret, and the
/// exchange <c>POST /shopify/{shop}/admin/oauth/access_token</c> (JSON <c>client_id, client_secret, code</c>) for an
/// offline access token. A code is good for one exchange within 10 minutes.
/// </summary>
public static class ShopifyOAuthEndpoints
{
    public static IEndpointRouteBuilder MapShopifyOAuth(this IEndpointRouteBuilder routes)
    {
        var oauth = ShopifyVendor.PathPrefix + "/{shop}/admin/oauth";
        routes.MapGet(oauth + "/authorize", ShowGrant);
        routes.MapPost(oauth + "/authorize", Decide).DisableAntiforgery();
        routes.MapPost(oauth + "/access_token", Exchange).DisableAntiforgery();
        return routes;
    }

    private static IResult ShowGrant(string shop, HttpContext context, ShopifyState state)
    {
        var query = context.Request.Query;
        if (Check(state, shop, query["client_id"], query["redirect_uri"], query["scope"]) is { } problem) return Page(400, WebUtility.HtmlEncode(problem));
        var hidden = string.Concat(new[] { "client_id", "redirect_uri", "scope", "state" }
            .Select(name => $"<input type=\"hidden\" name=\"{name}\" value=\"{WebUtility.HtmlEncode(query[name])}\">"));
        return Page(200, $"""
            <p>Install app on {WebUtility.HtmlEncode(shop)}. It asks for: {WebUtility.HtmlEncode(query["scope"])}</p>
            <form method="post">{hidden}<button name="decision" value="install">Install</button> <button name="decision" value="cancel">Cancel</button></form>
            """);
    }

    private static async Task<IResult> Decide(string shop, HttpContext context, ShopifyState state)
    {
        var form = await context.Request.ReadFormAsync();
        string? clientId = form["client_id"], redirectUri = form["redirect_uri"], scope = form["scope"];
        if (Check(state, shop, clientId, redirectUri, scope) is { } problem) return Page(400, WebUtility.HtmlEncode(problem));
        // Cancelling leaves the merchant in their admin: Shopify sends nothing to the app.
        if (form["decision"] != "install") return Page(200, "The app was not installed.");
        var app = state.Apps[clientId!];
        var store = state.Shops[shop];
        var code = Token();
        state.Codes[code] = (app.ClientId, store.Domain, scope!, DateTimeOffset.UtcNow + ShopifyState.CodeLifetime);
        var parameters = new Dictionary<string, string>
        {
            ["code"] = code, ["host"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"admin.shopify.com/store/{store.Domain.Split('.')[0]}")).TrimEnd('='),
            ["shop"] = store.Domain, ["state"] = form["state"].ToString(), ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(),
        };
        return Results.Redirect($"{redirectUri}{(redirectUri!.Contains('?') ? '&' : '?')}{ShopifyState.SignedQuery(app.ClientSecret, parameters)}");
    }

    private static string? Check(ShopifyState state, string shop, string? clientId, string? redirectUri, string? scope)
    {
        if (!state.Shops.ContainsKey(shop)) return "There is no store at this address.";
        if (clientId is null || !state.Apps.TryGetValue(clientId, out var app)) return "Oauth error invalid_request: The client_id is unknown.";
        if (redirectUri is null || !app.RedirectUris.Contains(redirectUri)) return "Oauth error invalid_request: The redirect_uri is not whitelisted.";
        if (string.IsNullOrWhiteSpace(scope)) return "Oauth error invalid_scope: scope is required.";
        return null;
    }

    private static async Task<IResult> Exchange(string shop, HttpContext context, ShopifyState state)
    {
        JsonObject? body;
        try { body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject; }
        catch (JsonException) { body = null; }
        string? Field(string name) => body?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        if (Field("client_id") is not { } clientId || !state.Apps.TryGetValue(clientId, out var app)
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(app.ClientSecret), Encoding.UTF8.GetBytes(Field("client_secret") ?? "")))
            return Error(401, "invalid_client", "Client authentication failed.");
        if (Field("code") is not { } code || !state.Codes.TryRemove(code, out var issued) || issued.ClientId != clientId
            || !string.Equals(issued.Shop, shop, StringComparison.OrdinalIgnoreCase) || issued.ExpiresAt < DateTimeOffset.UtcNow)
            return Error(400, "invalid_request", "The authorization code was not found or was already used.");
        var store = state.Shops[shop];
        // Installing again replaces the app's token on this store.
        if (state.InstallationOf(app, store) is { } earlier) state.InstallationsByToken.TryRemove(earlier.AccessToken, out _);
        var installation = new ShopifyAppInstallation(app, store, "shpat_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), issued.Scope, DateTimeOffset.UtcNow);
        state.InstallationsByToken[installation.AccessToken] = installation;
        return Results.Json(new JsonObject { ["access_token"] = installation.AccessToken, ["scope"] = installation.Scope });
    }

    private static string Token() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static IResult Error(int status, string error, string description) =>
        Results.Json(new JsonObject { ["error"] = error, ["error_description"] = description }, statusCode: status);

    private static IResult Page(int status, string body) =>
        Results.Content($"<!doctype html><html><head><title>Shopify (sandbox)</title></head><body><h1>Shopify</h1>{body}</body></html>", "text/html", statusCode: status);
}
