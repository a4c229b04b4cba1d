namespace Lumo.Core.Secrets;

/// <summary>
/// Secret names, valid in Key Vault (letters, digits and dashes, at most 127 characters).
/// Workspace and account ids are lowercase hex, so the names stay valid.
/// </summary>
public static class SecretNames
{
    public static string KlaviyoApiKey(string workspaceId) => $"lumo-{workspaceId}-klaviyo-api-key";
    /// <summary>
    /// The Klaviyo OAuth app's tokens for the workspace (JSON, <see cref="Klaviyo.KlaviyoOAuthGrant"/>). This and the
    /// private key replace each other: the one not in use is set to <see cref="Cleared"/>, never deleted, because Key
    /// Vault keeps a deleted name (soft delete) and refuses to set it again until it is recovered or purged.
    /// </summary>
    public static string KlaviyoOAuthGrant(string workspaceId) => $"lumo-{workspaceId}-klaviyo-oauth-grant";
    /// <summary>The value of a secret that is not in use (see <see cref="KlaviyoOAuthGrant"/>); read as no secret. Not empty: Key Vault wants a value.</summary>
    public const string Cleared = "cleared";

    /// <summary>The value, or null when there is none or it was cleared.</summary>
    public static string? InUse(string? value) => value is null or Cleared ? null : value;

    /// <summary>The Shopify store's offline access token (set to <see cref="Cleared"/> when the app is uninstalled).</summary>
    public static string ShopifyAccessToken(string workspaceId) => $"lumo-{workspaceId}-shopify-token";

    public static string FlowKey(string workspaceId) => $"lumo-{workspaceId}-flow-key";
    public static string ChannelSecret(string workspaceId, string accountId) => $"lumo-{workspaceId}-{accountId}-channel-secret";
    public static string LoginChannelSecret(string workspaceId, string accountId) => $"lumo-{workspaceId}-{accountId}-login-channel-secret";
    public static string ChannelAccessToken(string workspaceId, string accountId) => $"lumo-{workspaceId}-{accountId}-channel-access-token";
}
