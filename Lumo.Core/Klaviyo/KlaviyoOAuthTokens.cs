using System.Collections.Concurrent;
using System.Text.Json;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Klaviyo;

/// <summary>The Klaviyo OAuth app's tokens for one workspace, kept in the secret store.</summary>
public sealed record KlaviyoOAuthGrant(string AccessToken, string RefreshToken, DateTimeOffset ExpiresAt, string? Scope);

/// <summary>
/// Access tokens of workspaces connected through the Klaviyo OAuth app, refreshed a few minutes before they expire —
/// or when Klaviyo refused one — once across all instances: one refresh per workspace runs at a time in this process
/// (the others await it), under a lease across processes, and whoever waits for it, or gets the lease after it, reads
/// the stored grant again instead of refreshing with a refresh token that may no longer be valid. Whatever refresh
/// token Klaviyo returns is stored, even when the caller has given up meanwhile.
/// </summary>
public sealed class KlaviyoOAuthTokens(ISecretStore secrets, LeaseStore leases, KlaviyoOAuthClient oauth, TimeProvider clock, ILogger<KlaviyoOAuthTokens> logger)
{
    private static readonly TimeSpan RefreshAhead = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan RefreshLease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan WaitForOtherRefresh = TimeSpan.FromSeconds(15);
    private const string LeaseScope = "klaviyo-oauth-refresh";
    private static readonly ConcurrentDictionary<string, Lazy<Task<KlaviyoOAuthGrant?>>> RefreshesUnderWay = new();

    public async Task<KlaviyoOAuthGrant?> GetGrantAsync(string workspaceId, CancellationToken cancellationToken, bool latest = false)
    {
        var name = SecretNames.KlaviyoOAuthGrant(workspaceId);
        var json = latest ? await secrets.GetLatestIfExistsAsync(name, cancellationToken) : await secrets.GetIfExistsAsync(name, cancellationToken);
        return SecretNames.InUse(json) is { } grant ? JsonSerializer.Deserialize<KlaviyoOAuthGrant>(grant) : null;
    }

    public Task SaveGrantAsync(string workspaceId, KlaviyoOAuthGrant grant, CancellationToken cancellationToken) =>
        secrets.SetAsync(SecretNames.KlaviyoOAuthGrant(workspaceId), JsonSerializer.Serialize(grant), cancellationToken);

    /// <summary>
    /// A usable access token, or null when the workspace is not (or no longer) connected through the app.
    /// <paramref name="refused"/> is a token Klaviyo just answered 401 to: a newer one is used, or one is refreshed.
    /// </summary>
    public async Task<string?> GetAccessTokenAsync(string workspaceId, string? refused, CancellationToken cancellationToken)
    {
        var grant = await GetGrantAsync(workspaceId, cancellationToken, latest: refused is not null);
        if (grant is null) return null;
        if (IsUsable(grant, refused)) return grant.AccessToken;
        var flight = RefreshesUnderWay.GetOrAdd(workspaceId, _ => new Lazy<Task<KlaviyoOAuthGrant?>>(() => RefreshAcrossInstancesAsync(workspaceId, grant)));
        try
        {
            return (await flight.Value.WaitAsync(cancellationToken))?.AccessToken;
        }
        finally
        {
            RefreshesUnderWay.TryRemove(KeyValuePair.Create(workspaceId, flight));
        }
    }

    private bool IsUsable(KlaviyoOAuthGrant grant, string? refused) => grant.AccessToken != refused && grant.ExpiresAt - clock.GetUtcNow() > RefreshAhead;

    // Not cancelled by any one caller: once Klaviyo has answered, its new refresh token must be stored.
    private async Task<KlaviyoOAuthGrant?> RefreshAcrossInstancesAsync(string workspaceId, KlaviyoOAuthGrant stale)
    {
        var owner = Guid.NewGuid().ToString("N");
        var deadline = clock.GetUtcNow() + WaitForOtherRefresh;
        while (!await leases.TryAcquireAsync(LeaseScope, workspaceId, owner, RefreshLease, CancellationToken.None))
        {
            // Another instance is refreshing: use what it stores.
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            var stored = await GetGrantAsync(workspaceId, CancellationToken.None, latest: true);
            if (stored is null || stored.AccessToken != stale.AccessToken && IsUsable(stored, null)) return stored;
            if (clock.GetUtcNow() > deadline) throw new KlaviyoApiException(0, null, "Waited too long for another instance to refresh the Klaviyo access token.");
        }
        try
        {
            var current = await GetGrantAsync(workspaceId, CancellationToken.None, latest: true);
            if (current is null || current.AccessToken != stale.AccessToken && IsUsable(current, null)) return current; // disconnected, or refreshed meanwhile
            var fresh = await oauth.RefreshAsync(current.RefreshToken, clock.GetUtcNow(), CancellationToken.None);
            await SaveGrantAsync(workspaceId, fresh with { Scope = fresh.Scope ?? current.Scope }, CancellationToken.None);
            logger.LogInformation("Refreshed the Klaviyo access token of workspace {WorkspaceId}; it expires at {ExpiresAt}", workspaceId, fresh.ExpiresAt);
            return fresh;
        }
        finally
        {
            await leases.ReleaseAsync(LeaseScope, workspaceId, owner, CancellationToken.None);
        }
    }
}
