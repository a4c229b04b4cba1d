using System.Net.Http.Headers;
using Lumo.Core.Secrets;

namespace Lumo.Core.Klaviyo;

/// <summary>Adds the workspace's private API key and the API revision to every Klaviyo request.</summary>
internal sealed class KlaviyoAuthHandler(ISecretStore secrets) : DelegatingHandler
{
    internal static readonly HttpRequestOptionsKey<string> WorkspaceKey = new("Lumo.KlaviyoWorkspace");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(WorkspaceKey, out var workspaceId))
        {
            var key = await secrets.GetIfExistsAsync(SecretNames.KlaviyoApiKey(workspaceId), cancellationToken)
                ?? throw new KlaviyoApiException(401, "not_authenticated", "No Klaviyo API key is stored for this workspace.");
            request.Headers.Authorization = new AuthenticationHeaderValue("Klaviyo-API-Key", key);
        }
        request.Headers.Remove("revision");
        request.Headers.Add("revision", KlaviyoOptions.Revision);
        request.Headers.Accept.Clear();
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.api+json"));
        return await base.SendAsync(request, cancellationToken);
    }
}
