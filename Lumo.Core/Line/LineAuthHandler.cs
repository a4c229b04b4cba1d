using System.Net.Http.Headers;
using Lumo.Core.Secrets;

namespace Lumo.Core.Line;

/// <summary>Adds the account's channel access token (from the secret store) as the Bearer token.</summary>
internal sealed class LineAuthHandler(ISecretStore secrets) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(LineAccountRef.OptionKey, out var account))
        {
            var token = await secrets.GetIfExistsAsync(Secrets.SecretNames.ChannelAccessToken(account.WorkspaceId, account.AccountId), cancellationToken)
                ?? throw new LineApiException(401, "No channel access token is stored for this LINE account.");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await base.SendAsync(request, cancellationToken);
    }
}
