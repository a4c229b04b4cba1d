using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Lumo.Core.Http;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Klaviyo;

/// <summary>
/// Klaviyo's OAuth token and revoke endpoints (https://developers.klaviyo.com/en/docs/set_up_oauth): form bodies with
/// the app's Basic client authentication. Every call is made once: a refresh that Klaviyo carried out but whose answer
/// was lost must not be repeated with a refresh token Klaviyo may have replaced. Failures are <see cref="KlaviyoApiException"/>;
/// <c>invalid_grant</c> (expired, revoked, uninstalled) is a 401, so it pauses the connection like a refused key.
/// </summary>
public sealed class KlaviyoOAuthClient(HttpClient http, IOptions<KlaviyoOptions> options)
{
    public Task<KlaviyoOAuthGrant> ExchangeCodeAsync(string code, string codeVerifier, Uri redirectUri, DateTimeOffset now, CancellationToken cancellationToken) =>
        RequestTokensAsync(new() { ["grant_type"] = "authorization_code", ["code"] = code, ["code_verifier"] = codeVerifier, ["redirect_uri"] = redirectUri.ToString() }, now, cancellationToken);

    public Task<KlaviyoOAuthGrant> RefreshAsync(string refreshToken, DateTimeOffset now, CancellationToken cancellationToken) =>
        RequestTokensAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken }, now, cancellationToken);

    /// <summary>The id of the Klaviyo account an access token was granted for (https://developers.klaviyo.com/en/reference/get_accounts).</summary>
    public async Task<string> GetAccountIdAsync(string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/accounts");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Add("revision", KlaviyoOptions.Revision);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.api+json"));
        using var response = await SendAsync(request, cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!["data"]![0]!["id"]!.GetValue<string>();
    }

    /// <summary>Revokes the grant the refresh token belongs to (Klaviyo uninstalls the app from the account).</summary>
    public async Task RevokeAsync(string refreshToken, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new() { ["token"] = refreshToken, ["token_type_hint"] = "refresh_token" }, "oauth/revoke", cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
    }

    private async Task<KlaviyoOAuthGrant> RequestTokensAsync(Dictionary<string, string> form, DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(form, "oauth/token", cancellationToken);
        // Sent: Klaviyo may have replaced the refresh token already, so its answer is read to the end whatever the caller does.
        await ThrowIfFailedAsync(response, CancellationToken.None);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>(CancellationToken.None))!;
        return new KlaviyoOAuthGrant(body["access_token"]!.GetValue<string>(), body["refresh_token"]!.GetValue<string>(),
            now.AddSeconds(body["expires_in"]?.GetValue<int>() ?? 3600), body["scope"]?.GetValue<string>());
    }

    private async Task<HttpResponseMessage> SendAsync(Dictionary<string, string> form, string path, CancellationToken cancellationToken)
    {
        var app = options.Value;
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{app.OAuthClientId}:{app.OAuthClientSecret}")));
        request.Options.Set(ResilienceDefaults.NoRetry, true);
        return await SendAsync(request, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException
                                   || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new KlaviyoApiException(0, null, $"Klaviyo did not answer: {e.Message}", inner: e);
        }
    }

    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        string? error = null, description = null;
        try
        {
            var body = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
            (error, description) = (body?["error"]?.GetValue<string>(), body?["error_description"]?.GetValue<string>());
        }
        catch (System.Text.Json.JsonException)
        {
            // A proxy's error page: the status says enough.
        }
        // invalid_grant: the app's authorization has expired or was revoked; only reconnecting helps.
        var status = error == "invalid_grant" ? 401 : (int)response.StatusCode;
        throw new KlaviyoApiException(status, error, description ?? response.ReasonPhrase ?? "Klaviyo OAuth error", VendorApiException.ReadRetryAfter(response));
    }
}
