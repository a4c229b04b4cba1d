using Lumo.Core.IdLinkage;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Shopify;

public enum ShopifyCallbackOutcome { Installed, BadSignature, BadShop, UnknownState, OtherShop, ShopTaken, OtherStoreInstalled, ExchangeRefused, TryAgain }

public sealed record ShopifyCallbackResult(ShopifyCallbackOutcome Outcome, string? WorkspaceId = null, string? Detail = null);

public enum ShopifyLaunchOutcome { Connected, NotConnected, BadSignature, BadShop, Stale }

/// <summary>
/// Installing the Lumo app on a Shopify store (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant):
/// the admin names the store and gets its grant URL; the callback's <c>hmac</c> is checked before anything is read,
/// then the one-time state (10 minutes, bound to the workspace and the store) is claimed, the code exchanged for an
/// offline token kept in the secret store, and the first product sync queued. When the merchant opens the app from
/// Shopify, the signed launch request is checked and sent to the workspace's admin page.
/// </summary>
public sealed class ShopifyInstallation(ShopifyConnectionStore connections, ShopifyStoreLifecycle lifecycle, ShopifyClient shopify, ISecretStore secrets, OneTimeStates states, LumoQueues queues,
    IOptions<ShopifyOptions> options, IOptions<IdLinkageOptions> publicUrls, TimeProvider clock, ILogger<ShopifyInstallation> logger)
{
    public static readonly TimeSpan StateLifetime = TimeSpan.FromMinutes(10);
    /// <summary>How old a signed launch request may be (Shopify's own libraries allow 90 seconds).</summary>
    public static readonly TimeSpan LaunchLifetime = TimeSpan.FromSeconds(90);
    private const string Partition = "shopify";

    public Uri RedirectUri => publicUrls.Value.Url("/api/shopify/callback");

    /// <summary>Why the workspace may not install the app on <paramref name="shop"/>: another of its stores still has it (one store per workspace).</summary>
    public static string? OtherStoreInstalled(ShopifyConnection? connection, ShopDomain shop) =>
        connection is { Installed: true } && connection.Shop != shop ? $"This workspace has the Lumo app on {connection.Shop}; uninstall it there before connecting {shop}." : null;

    public async Task<(Uri AuthorizeUrl, DateTimeOffset ExpiresAt)> StartAsync(string workspaceId, ShopDomain shop, CancellationToken cancellationToken)
    {
        var state = LinkSession.NewSecret();
        var expiresAt = clock.GetUtcNow() + StateLifetime;
        await states.IssueAsync(Partition, state, expiresAt, new Dictionary<string, string> { ["WorkspaceId"] = workspaceId, ["Shop"] = shop.Value }, cancellationToken);
        var url = QueryHelpers.AddQueryString(options.Value.StoreUrl(shop, "admin/oauth/authorize").ToString(), new Dictionary<string, string?>
        {
            ["client_id"] = options.Value.ClientId, ["scope"] = ShopifyOptions.Scopes, ["redirect_uri"] = RedirectUri.ToString(), ["state"] = state,
        });
        return (new Uri(url), expiresAt);
    }

    /// <summary>Shopify's redirect back after the merchant approved the install.</summary>
    public async Task<ShopifyCallbackResult> CompleteAsync(IReadOnlyList<KeyValuePair<string, string>> query, CancellationToken cancellationToken)
    {
        // Without the app's secret no request can be verified, so none is trusted.
        if (!options.Value.Configured || !ShopifySignatures.IsValidQuery(query, options.Value.ClientSecret!)) return new(ShopifyCallbackOutcome.BadSignature);
        string? Value(string name) => query.Where(p => p.Key == name).Select(p => p.Value).FirstOrDefault();
        if (!ShopDomain.TryParse(Value("shop"), out var shop)) return new(ShopifyCallbackOutcome.BadShop);
        if (Value("state") is not { } state || await ClaimStateAsync(state, cancellationToken) is not { } pending) return new(ShopifyCallbackOutcome.UnknownState);
        if (pending.Shop != shop.Value)
            return new(ShopifyCallbackOutcome.OtherShop, pending.WorkspaceId, $"The app was installed on {shop}, but the install was started for {pending.Shop}.");
        if (await connections.WorkspaceOfAsync(shop, cancellationToken) is { } owner && owner != pending.WorkspaceId)
            return new(ShopifyCallbackOutcome.ShopTaken, pending.WorkspaceId, $"{shop} is connected to another Lumo workspace; uninstall it there first.");
        var previous = await connections.GetIfExistsAsync(pending.WorkspaceId, cancellationToken);
        if (OtherStoreInstalled(previous, shop) is { } other) return new(ShopifyCallbackOutcome.OtherStoreInstalled, pending.WorkspaceId, other);
        if (Value("code") is not { Length: > 0 } code) return new(ShopifyCallbackOutcome.ExchangeRefused, pending.WorkspaceId, "Shopify sent no authorization code.");
        (string AccessToken, string Scope) grant;
        try
        {
            grant = await shopify.ExchangeCodeAsync(shop, code, cancellationToken);
        }
        catch (ShopifyApiException e)
        {
            logger.LogWarning("Shopify refused the authorization code of {Shop}: {Status} {Code}", shop, e.Status, e.Code);
            return e.IsTransient
                ? new(ShopifyCallbackOutcome.TryAgain, pending.WorkspaceId, "Shopify did not answer in time.")
                : new(ShopifyCallbackOutcome.ExchangeRefused, pending.WorkspaceId, $"Shopify refused the authorization code ({e.Code ?? e.Status.ToString()}).");
        }
        if (!await connections.ClaimShopAsync(shop, pending.WorkspaceId, CancellationToken.None))
            return new(ShopifyCallbackOutcome.ShopTaken, pending.WorkspaceId, $"{shop} is connected to another Lumo workspace; uninstall it there first.");
        // The workspace switches stores (the earlier one is uninstalled): its products and feeds must not mix with the new one's.
        if (previous is not null && previous.Shop != shop) await lifecycle.ForgetStoreAsync(previous, CancellationToken.None);
        await secrets.SetAsync(SecretNames.ShopifyAccessToken(pending.WorkspaceId), grant.AccessToken, CancellationToken.None);
        // A new install (or a re-install) starts over with a full sync, which also reads the store's currency.
        await connections.SaveAsync(new ShopifyConnection
        {
            WorkspaceId = pending.WorkspaceId, Shop = shop, Scope = grant.Scope, InstalledAt = clock.GetUtcNow(), Currency = previous?.Shop == shop ? previous.Currency : null,
        }, CancellationToken.None);
        await queues.EnqueueAsync(QueueNames.ShopifyWork, new ShopifyWorkItem(pending.WorkspaceId, ShopifyWorkKind.SyncProducts), CancellationToken.None);
        await queues.EnqueueAsync(QueueNames.ShopifyWork, new ShopifyWorkItem(pending.WorkspaceId, ShopifyWorkKind.CountSales), CancellationToken.None);
        logger.LogInformation("Shopify store {Shop} installed for workspace {WorkspaceId} ({Scope})", shop, pending.WorkspaceId, grant.Scope);
        return new(ShopifyCallbackOutcome.Installed, pending.WorkspaceId);
    }

    /// <summary>The merchant opened the app in Shopify: which workspace the store belongs to, after checking the signed request.</summary>
    public async Task<(ShopifyLaunchOutcome Outcome, string? WorkspaceId)> LaunchAsync(IReadOnlyList<KeyValuePair<string, string>> query, CancellationToken cancellationToken)
    {
        if (!options.Value.Configured || !ShopifySignatures.IsValidQuery(query, options.Value.ClientSecret!)) return (ShopifyLaunchOutcome.BadSignature, null);
        string? Value(string name) => query.Where(p => p.Key == name).Select(p => p.Value).FirstOrDefault();
        if (!ShopDomain.TryParse(Value("shop"), out var shop)) return (ShopifyLaunchOutcome.BadShop, null);
        if (!long.TryParse(Value("timestamp"), out var seconds) || (clock.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > LaunchLifetime)
            return (ShopifyLaunchOutcome.Stale, null);
        var workspaceId = await connections.WorkspaceOfAsync(shop, cancellationToken);
        return workspaceId is null ? (ShopifyLaunchOutcome.NotConnected, null) : (ShopifyLaunchOutcome.Connected, workspaceId);
    }

    private sealed record PendingState(string WorkspaceId, string Shop);

    // 32 random bytes in base64url: anything else was never issued (and never reaches a table key).
    private async Task<PendingState?> ClaimStateAsync(string state, CancellationToken cancellationToken) =>
        state.Length == 43 && state.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') && await states.ClaimAsync(Partition, state, cancellationToken) is { } claimed
            ? new PendingState(claimed["WorkspaceId"], claimed["Shop"]) : null;
}
