using System.ComponentModel.DataAnnotations;

namespace Lumo.Core.Line;

/// <summary>Where the LINE Messaging API is (https://developers.line.biz/en/reference/messaging-api/).</summary>
public sealed class LineOptions
{
    public const string Section = "Lumo:Line";

    /// <summary>https://api.line.me in production; the sandbox locally.</summary>
    [Required]
    public Uri ApiBaseUrl { get; set; } = new("https://api.line.me");
}
