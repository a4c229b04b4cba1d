using System.ComponentModel.DataAnnotations;

namespace Lumo.Core.Line;

/// <summary>Where the LINE Messaging API is (https://developers.line.biz/en/reference/messaging-api/).</summary>
public sealed class LineOptions
{
    public const string Section = "Lumo:Line";

    /// <summary>https://api.line.me in production; the sandbox locally.</summary>
    [Required]
    public Uri ApiBaseUrl { get; set; } = new("https://api.line.me");

    /// <summary>
    /// LINE Login's authorize page, where the customer's browser goes (https://developers.line.biz/en/reference/line-login/);
    /// LINE Login's token and verify endpoints are under <see cref="ApiBaseUrl"/>.
    /// </summary>
    [Required]
    public Uri LoginAuthorizeUrl { get; set; } = new("https://access.line.me/oauth2/v2.1/authorize");
}
