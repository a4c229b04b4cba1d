using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace Lumo.Core.KlaviyoEvents;

/// <summary>
/// Client-side pacing of Bulk Create Events per Klaviyo account: burst 10/s and steady 150/min, as published
/// (https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling). Sliding windows, so that no window of
/// Klaviyo's, wherever it starts, sees more than the limit; the server's 429 and Retry-After remain the authority.
/// </summary>
public sealed class KlaviyoRateLimits
{
    public const int BulkEventsPerSecond = 10;
    public const int BulkEventsPerMinute = 150;
    private readonly ConcurrentDictionary<string, (RateLimiter Burst, RateLimiter Steady)> _bulkEvents = new();

    public async Task WaitForBulkEventsAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var (burst, steady) = _bulkEvents.GetOrAdd(workspaceId, _ => (
            Sliding(BulkEventsPerSecond, TimeSpan.FromSeconds(1), 10),
            Sliding(BulkEventsPerMinute, TimeSpan.FromMinutes(1), 60)));
        using var minute = await steady.AcquireAsync(1, cancellationToken);
        using var second = await burst.AcquireAsync(1, cancellationToken);
    }

    private static SlidingWindowRateLimiter Sliding(int permits, TimeSpan window, int segments) => new(new SlidingWindowRateLimiterOptions
    {
        PermitLimit = permits,
        Window = window,
        SegmentsPerWindow = segments,
        QueueLimit = int.MaxValue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        AutoReplenishment = true,
    });
}
