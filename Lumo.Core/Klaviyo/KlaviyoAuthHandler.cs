using System.Net;
using System.Net.Http.Headers;
using Lumo.Core.Secrets;
using Microsoft.Extensions.Caching.Memory;

namespace Lumo.Core.Klaviyo;

/// <summary>
/// Adds the workspace's credentials and the API revision to every Klaviyo request: the private API key, or the OAuth
/// app's access token (<see cref="KlaviyoOAuthTokens"/>). A 401 to an access token is answered by refreshing it and
/// sending the request once more.
/// </summary>
internal sealed class KlaviyoAuthHandler(ISecretStore secrets, KlaviyoOAuthTokens tokens, IMemoryCache cache) : DelegatingHandler
{
    internal static readonly HttpRequestOptionsKey<string> WorkspaceKey = new("Lumo.KlaviyoWorkspace");
    // Remembers which workspaces use the app, so their calls do not look for a private key that is not there.
    private static readonly TimeSpan RememberOAuth = TimeSpan.FromMinutes(1);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Remove("revision");
        request.Headers.Add("revision", KlaviyoOptions.Revision);
        request.Headers.Accept.Clear();
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.api+json"));
        if (!request.Options.TryGetValue(WorkspaceKey, out var workspaceId)) return await base.SendAsync(request, cancellationToken);

        var usesApp = cache.TryGetValue(CacheKey(workspaceId), out bool remembered) && remembered;
        if (!usesApp && await secrets.GetIfExistsAsync(SecretNames.KlaviyoApiKey(workspaceId), cancellationToken) is { } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Klaviyo-API-Key", key);
            return await base.SendAsync(request, cancellationToken);
        }
        var token = await tokens.GetAccessTokenAsync(workspaceId, null, cancellationToken);
        if (token is null)
        {
            cache.Remove(CacheKey(workspaceId));
            throw new KlaviyoApiException(401, "not_authenticated", "Klaviyo is not connected: connect the Klaviyo app or give a private API key.");
        }
        cache.Set(CacheKey(workspaceId), true, RememberOAuth);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;
        // Expired early or revoked: a fresh token, or invalid_grant (thrown as a 401) when the app's authorization is gone.
        response.Dispose();
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetAccessTokenAsync(workspaceId, token, cancellationToken)
            ?? throw new KlaviyoApiException(401, "not_authenticated", "The Klaviyo app was disconnected."));
        return await base.SendAsync(request, cancellationToken);
    }

    private static string CacheKey(string workspaceId) => "klaviyo-uses-oauth:" + workspaceId;
}
