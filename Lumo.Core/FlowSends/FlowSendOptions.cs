namespace Lumo.Core.FlowSends;

/// <summary>How Flow sends are de-duplicated (<c>Lumo:FlowSends</c>).</summary>
public sealed class FlowSendOptions
{
    public const string Section = "Lumo:FlowSends";
    public static readonly TimeSpan MaxDuplicateWindow = TimeSpan.FromDays(7);

    /// <summary>
    /// How long a send without an explicit idempotency key counts as a repeat of an earlier request with the same
    /// recipient and content. Klaviyo retries 429/5xx up to 17 times over 24 hours
    /// (https://developers.klaviyo.com/en/docs/webhooks_in_flows), so 25 hours covers every retry and no more: the same
    /// text sent again next week is a new send. Written like <c>1.01:00:00</c> (days.hours:minutes:seconds).
    /// </summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromHours(25);

    public static string? Problem(FlowSendOptions options) =>
        options.DuplicateWindow <= TimeSpan.Zero || options.DuplicateWindow > MaxDuplicateWindow
            ? $"Lumo__FlowSends__DuplicateWindow must be more than zero and at most 7 days (7.00:00:00); it is {options.DuplicateWindow}. " +
              "The default, 1.01:00:00 (25 hours), covers Klaviyo's 24 hours of retries."
            : null;
}
