using System.ComponentModel.DataAnnotations;

namespace Lumo.Core.Klaviyo;

/// <summary>Where the Klaviyo API is and which revision we speak (https://developers.klaviyo.com/en/reference/api_overview).</summary>
public sealed class KlaviyoOptions
{
    public const string Section = "Lumo:Klaviyo";

    /// <summary>The API revision every request names; our models follow this revision's OpenAPI document.</summary>
    public const string Revision = "2026-07-15";

    /// <summary>https://a.klaviyo.com in production (also the OAuth token and revoke endpoints); the sandbox locally.</summary>
    [Required]
    public Uri ApiBaseUrl { get; set; } = new("https://a.klaviyo.com");

    /// <summary>
    /// The Klaviyo OAuth app's client id (Klaviyo → Settings → Apps); empty: workspaces connect with private API keys only.
    /// Register <c>{PublicBaseUrl}/api/klaviyo/oauth/callback</c> as the app's redirect URL.
    /// </summary>
    public string? OAuthClientId { get; set; }

    /// <summary>The app's client secret (in Azure, an app setting referencing Key Vault). Required with <see cref="OAuthClientId"/>.</summary>
    public string? OAuthClientSecret { get; set; }

    /// <summary>Where the Klaviyo administrator approves the app.</summary>
    [Required]
    public Uri OAuthAuthorizeUrl { get; set; } = new("https://www.klaviyo.com/oauth/authorize");

    /// <summary>What the app asks for: everything Lumo reads and writes (README, "Connect Klaviyo as an app").</summary>
    public const string OAuthScopes = "accounts:read profiles:read profiles:write events:write lists:read segments:read forms:read data-privacy:write";

    public bool OAuthConfigured => !string.IsNullOrWhiteSpace(OAuthClientId);

    /// <summary>Why the OAuth settings cannot work, or null.</summary>
    public static string? Problem(KlaviyoOptions o) =>
        o.OAuthConfigured && string.IsNullOrWhiteSpace(o.OAuthClientSecret) ? "Lumo:Klaviyo:OAuthClientSecret is required when Lumo:Klaviyo:OAuthClientId is set." : null;
}
