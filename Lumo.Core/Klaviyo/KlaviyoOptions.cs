using System.ComponentModel.DataAnnotations;

namespace Lumo.Core.Klaviyo;

/// <summary>Where the Klaviyo API is and which revision we speak (https://developers.klaviyo.com/en/reference/api_overview).</summary>
public sealed class KlaviyoOptions
{
    public const string Section = "Lumo:Klaviyo";

    /// <summary>The API revision every request names; our models follow this revision's OpenAPI document.</summary>
    public const string Revision = "2026-07-15";

    /// <summary>https://a.klaviyo.com in production; the sandbox locally.</summary>
    [Required]
    public Uri ApiBaseUrl { get; set; } = new("https://a.klaviyo.com");
}
