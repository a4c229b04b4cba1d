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

    public Uri Url(string pathAndQuery) => new(PublicBaseUrl!.ToString().TrimEnd('/') + pathAndQuery);

    public Uri CallbackUrl => Url("/api/link/callback");
}
