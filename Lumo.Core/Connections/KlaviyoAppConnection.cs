using Microsoft.AspNetCore.WebUtilities;
using Lumo.Core.IdLinkage;
using Lumo.Core.Klaviyo;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;
using Lumo.Core.SyncData;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Connections;

public enum KlaviyoAppCallbackOutcome { Connected, Denied, UnknownState, ExchangeRefused, OtherKlaviyoAccount }

/// <summary>What the OAuth callback did, for the page the administrator's browser shows.</summary>
public sealed record KlaviyoAppCallbackResult(KlaviyoAppCallbackOutcome Outcome, string? WorkspaceId = null, string? Detail = null);

/// <summary>
/// Connects a workspace to Klaviyo through the Lumo OAuth app (authorization code with PKCE S256): the admin starts it
/// and gets Klaviyo's consent URL; the callback checks the one-time state (10 minutes, single use, bound to the
/// workspace and its code verifier), exchanges the code, keeps the tokens in the secret store, replaces a private key,
/// and queues the connection check, which also resumes work paused while the connection needed reconnecting.
/// Disconnecting revokes the grant in Klaviyo, pauses the workspace's Klaviyo work and deletes its sync history; what
/// was written to Klaviyo stays there.
/// </summary>
public sealed partial class KlaviyoAppConnection(WorkspaceStore workspaces, KlaviyoOAuthTokens tokens, KlaviyoOAuthClient oauth, ISecretStore secrets, SyncRunHistory syncRuns,
    KlaviyoConnectionHealth health, OneTimeStates states, LumoQueues queues, IOptions<KlaviyoOptions> klaviyoOptions, IOptions<IdLinkageOptions> publicUrls,
    TimeProvider clock, ILogger<KlaviyoAppConnection> logger)
{
    public static readonly TimeSpan StateLifetime = TimeSpan.FromMinutes(10);
    private const string Partition = "klaviyo";

    public Uri RedirectUri => publicUrls.Value.Url("/api/klaviyo/oauth/callback");

    /// <summary>Klaviyo's consent URL for this workspace, valid for <see cref="StateLifetime"/>.</summary>
    public async Task<(Uri AuthorizeUrl, DateTimeOffset ExpiresAt)> StartAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var options = klaviyoOptions.Value;
        var (state, verifier) = (LinkSession.NewSecret(), LinkSession.NewSecret());
        var expiresAt = clock.GetUtcNow() + StateLifetime;
        await states.IssueAsync(Partition, state, expiresAt, new Dictionary<string, string> { ["WorkspaceId"] = workspaceId, ["CodeVerifier"] = verifier }, cancellationToken);
        var url = QueryHelpers.AddQueryString(options.OAuthAuthorizeUrl.ToString(), new Dictionary<string, string?>
        {
            ["response_type"] = "code", ["client_id"] = options.OAuthClientId!, ["redirect_uri"] = RedirectUri.ToString(), ["scope"] = KlaviyoOptions.OAuthScopes,
            ["state"] = state, ["code_challenge"] = LineLogin.LineLoginClient.CodeChallenge(verifier), ["code_challenge_method"] = "S256",
        });
        return (new Uri(url), expiresAt);
    }

    /// <summary>
    /// Klaviyo's redirect back. The state is claimed (deleted under its ETag) before anything else, so a replayed or
    /// forged callback, or a second one racing the first, finds nothing and writes nothing.
    /// </summary>
    public async Task<KlaviyoAppCallbackResult> CompleteAsync(string? state, string? code, string? error, CancellationToken cancellationToken)
    {
        var claimed = state is null || !StateFormat().IsMatch(state) ? null : await ClaimStateAsync(state, cancellationToken);
        if (claimed is not { } pending) return new(KlaviyoAppCallbackOutcome.UnknownState);
        if (error is not null || string.IsNullOrEmpty(code))
        {
            logger.LogInformation("Klaviyo app connection of workspace {WorkspaceId} was not approved ({Error})", pending.WorkspaceId, error);
            return new(KlaviyoAppCallbackOutcome.Denied, pending.WorkspaceId, error == "access_denied" ? "The Klaviyo administrator denied the request." : error);
        }
        if (await workspaces.GetWorkspaceIfExistsAsync(pending.WorkspaceId, cancellationToken) is not { } connecting) return new(KlaviyoAppCallbackOutcome.UnknownState);
        KlaviyoOAuthGrant grant;
        string approvedAccount;
        try
        {
            grant = await oauth.ExchangeCodeAsync(code, pending.CodeVerifier, RedirectUri, clock.GetUtcNow(), cancellationToken);
            approvedAccount = await oauth.GetAccountIdAsync(grant.AccessToken, cancellationToken);
        }
        catch (KlaviyoApiException e) when (!e.IsTransient)
        {
            logger.LogWarning("Klaviyo refused the authorization code for workspace {WorkspaceId}: {Status} {Code}", pending.WorkspaceId, e.Status, e.Code);
            return new(KlaviyoAppCallbackOutcome.ExchangeRefused, pending.WorkspaceId, $"Klaviyo refused the authorization code ({e.Code ?? e.Status.ToString()}).");
        }
        // Whoever opened the consent URL chose the account: links and properties belong to the one the workspace has.
        if (connecting.KlaviyoAccountId is { } known && known != approvedAccount)
        {
            logger.LogWarning("Workspace {WorkspaceId} is connected to Klaviyo account {Known}; the app was approved for {Approved}: refused", connecting.Id, known, approvedAccount);
            await RevokeQuietlyAsync(grant.RefreshToken);
            return new(KlaviyoAppCallbackOutcome.OtherKlaviyoAccount, connecting.Id,
                $"The app was approved for Klaviyo account {approvedAccount}, but this workspace works with account {known}. Sign in to Klaviyo as that account's administrator and start again.");
        }
        await tokens.SaveGrantAsync(pending.WorkspaceId, grant, CancellationToken.None);
        await secrets.SetAsync(SecretNames.KlaviyoApiKey(pending.WorkspaceId), SecretNames.Cleared, CancellationToken.None); // the app replaces a private key
        await workspaces.RecordKlaviyoCredentialsAsync(connecting.Id, KlaviyoConnections.OAuth, clock.GetUtcNow(), connecting.Klaviyo.Status == ConnectionStatus.NeedsReconnect
            ? connecting.Klaviyo with { Detail = "The Klaviyo app was approved; the connection is being verified." } : ConnectionState.Unverified, cancellationToken);
        await queues.EnqueueAsync(QueueNames.VerifyConnections, new VerifyConnectionsRequest(connecting.Id, null), cancellationToken);
        logger.LogInformation("Workspace {WorkspaceId} connected to Klaviyo through the app", connecting.Id);
        return new(KlaviyoAppCallbackOutcome.Connected, connecting.Id);
    }

    /// <summary>Revokes the app's grant, pauses the workspace's Klaviyo work and deletes its sync history; false when it was not connected through the app.</summary>
    public async Task<bool> DisconnectAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        if (await tokens.GetGrantAsync(workspace.Id, cancellationToken, latest: true) is not { } grant) return false;
        try
        {
            await oauth.RevokeAsync(grant.RefreshToken, cancellationToken);
        }
        catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
        {
            // Already revoked or uninstalled in Klaviyo: nothing left to revoke.
        }
        await secrets.SetAsync(SecretNames.KlaviyoOAuthGrant(workspace.Id), SecretNames.Cleared, cancellationToken);
        await workspaces.RecordKlaviyoConnectionAsync(workspace.Id,
            new ConnectionState(ConnectionStatus.NeedsReconnect, clock.GetUtcNow(), "Disconnected: connect the Klaviyo app or give a private API key to resume."), null, cancellationToken);
        health.Forget(workspace.Id);
        foreach (var account in await workspaces.ListAccountsAsync(workspace.Id, cancellationToken))
            await syncRuns.DeleteAllAsync(workspace.Id, account.Id, cancellationToken);
        logger.LogInformation("Workspace {WorkspaceId} disconnected the Klaviyo app", workspace.Id);
        return true;
    }

    private async Task RevokeQuietlyAsync(string refreshToken)
    {
        try
        {
            await oauth.RevokeAsync(refreshToken, CancellationToken.None);
        }
        catch (KlaviyoApiException e)
        {
            logger.LogWarning("Could not revoke a refused Klaviyo app grant: {Status} {Code}", e.Status, e.Code);
        }
    }

    private sealed record PendingState(string WorkspaceId, string CodeVerifier);

    private async Task<PendingState?> ClaimStateAsync(string state, CancellationToken cancellationToken) =>
        await states.ClaimAsync(Partition, state, cancellationToken) is { } claimed ? new PendingState(claimed["WorkspaceId"], claimed["CodeVerifier"]) : null;

    // 32 random bytes in base64url: anything else was never issued (and never reaches a table key).
    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9_-]{43}$")]
    private static partial System.Text.RegularExpressions.Regex StateFormat();
}
