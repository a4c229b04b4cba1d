namespace Lumo.Core.Tracking;

/// <summary>How opens and clicks are counted (<c>Lumo:Tracking</c>).</summary>
public sealed class TrackingOptions
{
    public const string Section = "Lumo:Tracking";

    /// <summary>
    /// An image fetched sooner than this after LINE accepted the push is not an open: whatever fetches at send time
    /// (a server-side prefetch or scan) is not a person reading. LINE's apps load images when the chat is shown.
    /// </summary>
    public TimeSpan OpenGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Clicks on one link of one send within one window are one <c>Clicked LINE Message</c>.</summary>
    public TimeSpan ClickWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The default <c>utm_source</c> of tracked links (an Auto Send Message may set its own).</summary>
    public string UtmSource { get; set; } = "line";

    public static string? Problem(TrackingOptions o) =>
        o.OpenGrace < TimeSpan.Zero || o.OpenGrace > TimeSpan.FromMinutes(10) ? "Lumo:Tracking:OpenGrace is between 0 and 10 minutes."
        : o.ClickWindow < TimeSpan.FromMinutes(1) || o.ClickWindow > TimeSpan.FromDays(1) ? "Lumo:Tracking:ClickWindow is between 1 minute and 1 day."
        : string.IsNullOrWhiteSpace(o.UtmSource) || o.UtmSource.Length > 100 ? "Lumo:Tracking:UtmSource has 1 to 100 characters."
        : null;
}
