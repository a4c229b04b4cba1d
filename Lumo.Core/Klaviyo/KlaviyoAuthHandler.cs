using System.Net;
using System.Net.Http.Headers;
using Lumo.Core.Secrets;
using Microsoft.Extensions.Caching.Memory;

namespace Lumo.Core.Klaviyo;

/// <summary>
/// Adds the workspace's credentials and the API revision to every Klaviyo request: the private API key, or the OAuth
/// app's access token (<see cref="KlaviyoOAuthTokens"/>). A 401 to an access token is answered by refreshing it (or by
/// the private key that replaced the app meanwhile) and sending the request once more.
/// </summary>
internal sealed class KlaviyoAuthHandler(ISecretStore secrets, KlaviyoOAuthTokens tokens, IMemoryCache cache) : DelegatingHandler
{
    internal static readonly HttpRequestOptionsKey<string> WorkspaceKey = new("Lumo.KlaviyoWorkspace");
    // Remembers which workspaces use the app, so their calls do not look for a private key that is not there.
    private static readonly TimeSpan RememberOAuth = TimeSpan.FromMinutes(1);
    private const string KeyScheme = "Klaviyo-API-Key", TokenScheme = "Bearer";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Remove("revision");
        request.Headers.Add("revision", KlaviyoOptions.Revision);
        request.Headers.Accept.Clear();
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.api+json"));
        if (!request.Options.TryGetValue(WorkspaceKey, out var workspaceId)) return await base.SendAsync(request, cancellationToken);

        request.Headers.Authorization = await CredentialAsync(workspaceId, null, cancellationToken);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized || request.Headers.Authorization.Scheme != TokenScheme) return response;
        // Expired early or revoked: a fresh token, or invalid_grant (thrown as a 401) when the app's authorization is gone.
        response.Dispose();
        request.Headers.Authorization = await CredentialAsync(workspaceId, request.Headers.Authorization.Parameter, cancellationToken);
        return await base.SendAsync(request, cancellationToken);
    }

    private async Task<AuthenticationHeaderValue> CredentialAsync(string workspaceId, string? refusedToken, CancellationToken cancellationToken)
    {
        var usesApp = cache.TryGetValue(CacheKey(workspaceId), out bool remembered) && remembered;
        if (!usesApp && SecretNames.InUse(await secrets.GetIfExistsAsync(SecretNames.KlaviyoApiKey(workspaceId), cancellationToken)) is { } key)
            return new AuthenticationHeaderValue(KeyScheme, key);
        if (await tokens.GetAccessTokenAsync(workspaceId, refusedToken, cancellationToken) is { } token)
        {
            cache.Set(CacheKey(workspaceId), true, RememberOAuth);
            return new AuthenticationHeaderValue(TokenScheme, token);
        }
        cache.Remove(CacheKey(workspaceId));
        // A private key replaced the app since this instance last looked.
        if (SecretNames.InUse(await secrets.GetLatestIfExistsAsync(SecretNames.KlaviyoApiKey(workspaceId), cancellationToken)) is { } newKey)
            return new AuthenticationHeaderValue(KeyScheme, newKey);
        throw new KlaviyoApiException(401, "not_authenticated", "Klaviyo is not connected: connect the Klaviyo app or give a private API key.");
    }

    private static string CacheKey(string workspaceId) => "klaviyo-uses-oauth:" + workspaceId;
}
