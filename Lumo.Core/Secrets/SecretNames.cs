namespace Lumo.Core.Secrets;

/// <summary>
/// Secret names, valid in Key Vault (letters, digits and dashes, at most 127 characters).
/// Workspace and account ids are lowercase hex, so the names stay valid.
/// </summary>
public static class SecretNames
{
    public static string KlaviyoApiKey(string workspaceId) => $"lumo-{workspaceId}-klaviyo-api-key";
    /// <summary>The Klaviyo OAuth app's tokens for the workspace (JSON, <see cref="Klaviyo.KlaviyoOAuthGrant"/>).</summary>
    public static string KlaviyoOAuthGrant(string workspaceId) => $"lumo-{workspaceId}-klaviyo-oauth-grant";
    public static string FlowKey(string workspaceId) => $"lumo-{workspaceId}-flow-key";
    public static string ChannelSecret(string workspaceId, string accountId) => $"lumo-{workspaceId}-{accountId}-channel-secret";
    public static string LoginChannelSecret(string workspaceId, string accountId) => $"lumo-{workspaceId}-{accountId}-login-channel-secret";
    public static string ChannelAccessToken(string workspaceId, string accountId) => $"lumo-{workspaceId}-{accountId}-channel-access-token";
}
