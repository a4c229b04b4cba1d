namespace Lumo.Core.KlaviyoEvents;

/// <summary>How the event exporter paces its runs and rides out Klaviyo outages (<c>Lumo:KlaviyoEvents</c>).</summary>
public sealed class KlaviyoExportOptions
{
    public const string Section = "Lumo:KlaviyoEvents";

    /// <summary>How long one run keeps exporting (and waiting) before it hands over to a fresh invocation.</summary>
    public TimeSpan RunBudget { get; set; } = TimeSpan.FromMinutes(4);

    /// <summary>The export lease: renewed every third of it while a run lasts; what a crashed run holds a workspace up at most.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long transient failures are retried, counted from the event's own time. Klaviyo accepts event times back to
    /// the year 2000 (Create Event, revision 2026-07-15), so the bound is usefulness: a week late, a "Clicked LINE
    /// Message" still puts the profile in "clicked in the last 30 days" and the send history stays whole; past that a
    /// person should look at why Klaviyo has been failing, so the events are parked for replay.
    /// </summary>
    public TimeSpan MaxRetryAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The longest wait between two attempts during an outage (Klaviyo's Retry-After wins when it asks for longer).</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(1);

    public static string? Problem(KlaviyoExportOptions o) =>
        o.RunBudget <= TimeSpan.Zero || o.LeaseDuration < TimeSpan.FromSeconds(1) || o.MaxRetryAge <= TimeSpan.Zero || o.MaxBackoff <= TimeSpan.Zero
            ? "Lumo:KlaviyoEvents: RunBudget, MaxRetryAge and MaxBackoff must be positive and LeaseDuration at least one second."
            : null;
}
