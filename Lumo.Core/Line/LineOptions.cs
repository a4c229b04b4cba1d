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
    /// Where LINE takes uploads such as rich menu images (https://api-data.line.me). Left empty: LINE's own when
    /// <see cref="ApiBaseUrl"/> is LINE's, else <see cref="ApiBaseUrl"/> (the sandbox serves both).
    /// </summary>
    public Uri? DataApiBaseUrl { get; set; }

    public Uri DataApiUrl => DataApiBaseUrl ?? (ApiBaseUrl.Host == "api.line.me" ? new Uri("https://api-data.line.me") : ApiBaseUrl);

    /// <summary>
    /// LINE Login's authorize page, where the customer's browser goes (https://developers.line.biz/en/reference/line-login/);
    /// LINE Login's token and verify endpoints are under <see cref="ApiBaseUrl"/>.
    /// </summary>
    [Required]
    public Uri LoginAuthorizeUrl { get; set; } = new("https://access.line.me/oauth2/v2.1/authorize");

    /// <summary>LINE's push limit per channel: 2,000 requests per second (https://developers.line.biz/en/reference/messaging-api/#rate-limits).</summary>
    public const int PushesPerSecondPerChannel = 2000;

    /// <summary>
    /// How many instances of the app may push for one channel at the same time: set it to the app's maximum instance
    /// count. Each instance keeps to 90 % of its share of LINE's limit, so all of them together never exceed it.
    /// </summary>
    [Range(1, 1000)]
    public int PushInstances { get; set; } = 1;

    /// <summary>Pushes one instance may make per channel per second.</summary>
    public double PushesPerSecondPerInstance => PushesPerSecondPerChannel * 0.9 / PushInstances;
}
