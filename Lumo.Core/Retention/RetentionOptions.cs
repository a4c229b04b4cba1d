namespace Lumo.Core.Retention;

/// <summary>How long Lumo keeps what it records (<c>Lumo:Retention</c>); the sweep deletes what is older.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Lumo:Retention";

    /// <summary>The send log (and the content claims that de-duplicate sends): 90 days.</summary>
    public TimeSpan Sends { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Which LINE webhook events were applied (redelivery de-duplication; LINE redelivers within days): 90 days.</summary>
    public TimeSpan LineEventLog { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Sync history: existing-ID import runs and bulk profile import jobs: 90 days.</summary>
    public TimeSpan SyncHistory { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Events parked for an administrator (refused by Klaviyo, or past their useful age): 90 days.</summary>
    public TimeSpan ParkedEvents { get; set; } = TimeSpan.FromDays(90);

    public static string? Problem(RetentionOptions o) =>
        new[] { o.Sends, o.LineEventLog, o.SyncHistory, o.ParkedEvents }.Any(t => t < TimeSpan.FromDays(1))
            ? "Lumo:Retention: every retention is at least one day (Sends, LineEventLog, SyncHistory, ParkedEvents)."
            : null;
}
