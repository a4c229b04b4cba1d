using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Lumo.Core.Line;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Lumo.Core.LineLogin;

/// <summary>The verified claims Lumo uses from a LINE Login ID token: <c>sub</c> is the LINE user ID.</summary>
public sealed record LineIdToken(string UserId, string? DisplayName);

/// <summary>
/// Typed client for LINE Login v2.1 (https://developers.line.biz/en/reference/line-login/): the authorize URL with
/// state, nonce, PKCE (S256) and <c>bot_prompt=aggressive</c>, the code exchange, and ID token verification by
/// LINE's verify endpoint (which checks signature, audience, expiry and nonce). Failures are <see cref="LineLoginException"/>.
/// </summary>
public sealed class LineLoginClient(HttpClient http, IOptions<LineOptions> options)
{
    public Uri AuthorizeUrl(string channelId, Uri redirectUri, string state, string nonce, string codeVerifier) =>
        new(QueryHelpers.AddQueryString(options.Value.LoginAuthorizeUrl.ToString(), new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = channelId,
            ["redirect_uri"] = redirectUri.ToString(),
            ["state"] = state,
            ["scope"] = "openid profile",
            ["nonce"] = nonce,
            ["code_challenge"] = CodeChallenge(codeVerifier),
            ["code_challenge_method"] = "S256",
            ["bot_prompt"] = "aggressive",
        }));

    public static string CodeChallenge(string codeVerifier) => WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(codeVerifier)));

    /// <summary>Exchanges an authorization code for tokens; returns the ID token.</summary>
    public async Task<string> ExchangeCodeAsync(string channelId, string channelSecret, string code, Uri redirectUri, string codeVerifier, CancellationToken cancellationToken)
    {
        var answer = await PostFormAsync("oauth2/v2.1/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = redirectUri.ToString(),
            ["client_id"] = channelId,
            ["client_secret"] = channelSecret,
            ["code_verifier"] = codeVerifier,
        }, cancellationToken);
        return answer["id_token"]?.GetValue<string>() ?? throw new LineLoginException(200, "no_id_token", "LINE Login returned no ID token (is the openid scope enabled?).");
    }

    /// <summary>Has LINE verify the ID token for this channel and nonce.</summary>
    public async Task<LineIdToken> VerifyIdTokenAsync(string idToken, string channelId, string nonce, CancellationToken cancellationToken)
    {
        var claims = await PostFormAsync("oauth2/v2.1/verify", new Dictionary<string, string>
        {
            ["id_token"] = idToken,
            ["client_id"] = channelId,
            ["nonce"] = nonce,
        }, cancellationToken);
        return new LineIdToken(claims["sub"]?.GetValue<string>() ?? throw new LineLoginException(200, "no_sub", "The ID token names no user."),
            claims["name"]?.GetValue<string>());
    }

    private static readonly HttpRequestOptionsKey<string> ChannelKey = new("Lumo.LineLoginChannel");

    /// <summary>The LINE Login channel a request is for (its resilience pipeline is that channel's own).</summary>
    internal static string ChannelOf(HttpRequestMessage request) => request.Options.TryGetValue(ChannelKey, out var channel) ? channel : "";

    private async Task<JsonObject> PostFormAsync(string path, Dictionary<string, string> form, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
            request.Options.Set(ChannelKey, form["client_id"]);
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or BrokenCircuitException or TimeoutRejectedException
                                   || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new LineLoginException(0, "no_answer", $"LINE Login did not answer: {e.Message}", e);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonObject? document = null;
            try { document = text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null; }
            catch (System.Text.Json.JsonException) { /* an HTML error page; the status says enough */ }
            if (response.IsSuccessStatusCode && document is not null) return document;
            throw new LineLoginException((int)response.StatusCode, document?["error"]?.GetValue<string>(),
                document?["error_description"]?.GetValue<string>() ?? response.ReasonPhrase ?? "LINE Login error");
        }
    }
}

/// <summary>A LINE Login call failed; errors are OAuth 2.0's <c>{"error","error_description"}</c>.</summary>
public sealed class LineLoginException(int status, string? code, string message, Exception? inner = null)
    : Http.VendorApiException(status, code, message, null, inner);
