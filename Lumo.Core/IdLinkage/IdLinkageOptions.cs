using System.ComponentModel.DataAnnotations;

namespace Lumo.Core.IdLinkage;

/// <summary>Where customers reach the linking endpoints.</summary>
public sealed class IdLinkageOptions
{
    public const string Section = "Lumo:IdLinkage";

    /// <summary>
    /// The app's public address (e.g. https://func-lumo.azurewebsites.net): linking URLs, QR codes and the LINE Login
    /// callback (register <c>{PublicBaseUrl}/api/link/callback</c> in the LINE Login channel) are built on it. In
    /// Azure it defaults to https://$WEBSITE_HOSTNAME; set it for a custom domain.
    /// </summary>
    [Required]
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>Requests a client (IP address) may make to the public linking endpoints per minute.</summary>
    [Range(1, 10_000)]
    public int RequestsPerClientPerMinute { get; set; } = 30;

    /// <summary>
    /// How recently Klaviyo must have created a profile for a sign-up form's unsigned linking URL to link it: the form
    /// URL carries only what the visitor typed, so it may link a sign-up that just happened, never an existing customer
    /// (whose email anyone may know). Existing customers link through signed URLs or a Flow-controlled form.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan FormSignUpWindow { get; set; } = TimeSpan.FromMinutes(30);

    public Uri Url(string pathAndQuery) => new(PublicBaseUrl!.ToString().TrimEnd('/') + pathAndQuery);

    public Uri CallbackUrl => Url("/api/link/callback");
}
