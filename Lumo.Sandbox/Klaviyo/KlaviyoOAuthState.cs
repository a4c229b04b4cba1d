using System.Collections.Concurrent;

namespace Lumo.Sandbox.Klaviyo;

/// <summary>An OAuth app registered with the simulated Klaviyo (client id and secret, allowed redirect URIs).</summary>
public sealed record OAuthApp(string ClientId, string ClientSecret, IReadOnlyList<string> RedirectUris);

/// <summary>An authorization code waiting to be exchanged, bound to its PKCE challenge and redirect URI.</summary>
public sealed record OAuthCode(string Code, string ClientId, string AccountId, string RedirectUri, string CodeChallenge, string Scope, DateTimeOffset ExpiresAt);

/// <summary>An app installed in an account: its refresh token (dies after 90 days unused, on revocation or uninstall).</summary>
public sealed class OAuthGrant(string clientId, string accountId, string scope, string refreshToken)
{
    public string ClientId { get; } = clientId;
    public string AccountId { get; } = accountId;
    public string Scope { get; } = scope;
    public string RefreshToken { get; set; } = refreshToken;
    public DateTimeOffset LastUsed { get; set; } = DateTimeOffset.UtcNow;
    public bool Revoked { get; set; }
}

public sealed record OAuthAccessToken(string Token, OAuthGrant Grant, DateTimeOffset ExpiresAt);

/// <summary>The simulated Klaviyo's OAuth side: apps, codes, grants and access tokens, and counts the tests read.</summary>
public sealed class KlaviyoOAuthState
{
    /// <summary>Klaviyo's access tokens last an hour.</summary>
    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromHours(1);
    /// <summary>Refresh tokens die after 90 days without use.</summary>
    public static readonly TimeSpan RefreshTokenIdleLifetime = TimeSpan.FromDays(90);
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(5);

    public ConcurrentDictionary<string, OAuthApp> Apps { get; } = new();
    public ConcurrentDictionary<string, OAuthCode> Codes { get; } = new();
    /// <summary>Grants by refresh token (a grant is found again under each refresh token it is given).</summary>
    public ConcurrentDictionary<string, OAuthGrant> GrantsByRefreshToken { get; } = new();
    public ConcurrentDictionary<string, OAuthAccessToken> AccessTokens { get; } = new();
    /// <summary>Token requests per grant type and app ("refresh_token:client"), so tests can count refreshes.</summary>
    public ConcurrentDictionary<string, long> TokenRequests { get; } = new();
    public ConcurrentDictionary<string, long> Revocations { get; } = new();

    public IEnumerable<OAuthGrant> GrantsOf(string accountId) => GrantsByRefreshToken.Values.Where(g => g.AccountId == accountId).Distinct();

    /// <summary>Every access token of the account expires now (as an hour passing would do).</summary>
    public void ExpireAccessTokens(string accountId)
    {
        foreach (var token in AccessTokens.Values.Where(t => t.Grant.AccountId == accountId))
            AccessTokens[token.Token] = token with { ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1) };
    }

    /// <summary>The account's administrator uninstalls the app: its grants and tokens stop working.</summary>
    public void Uninstall(string accountId)
    {
        foreach (var grant in GrantsOf(accountId)) grant.Revoked = true;
    }

    public void Reset()
    {
        Apps.Clear();
        Codes.Clear();
        GrantsByRefreshToken.Clear();
        AccessTokens.Clear();
        TokenRequests.Clear();
        Revocations.Clear();
    }
}
