using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace Lumo.Core.KlaviyoEvents;

/// <summary>
/// Client-side pacing per Klaviyo account of the endpoints Lumo calls in volume: Bulk Create Events (burst 10/s,
/// steady 150/min), segment and list members (75/s, 750/min) and profile reads (75/s, 750/min), as published
/// (https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling). Sliding windows, so that no window of
/// Klaviyo's, wherever it starts, sees more than the limit; the server's 429 and Retry-After remain the authority.
/// </summary>
public sealed class KlaviyoRateLimits
{
    public const int BulkEventsPerSecond = 10;
    public const int BulkEventsPerMinute = 150;
    public const int SegmentProfilesPerSecond = 75;
    public const int SegmentProfilesPerMinute = 750;
    private readonly ConcurrentDictionary<string, (RateLimiter Burst, RateLimiter Steady)> _bulkEvents = new();
    private readonly ConcurrentDictionary<string, (RateLimiter Burst, RateLimiter Steady)> _segmentProfiles = new();
    private readonly ConcurrentDictionary<string, (RateLimiter Burst, RateLimiter Steady)> _profiles = new();

    public Task WaitForBulkEventsAsync(string workspaceId, CancellationToken cancellationToken) =>
        WaitAsync(_bulkEvents, workspaceId, BulkEventsPerSecond, BulkEventsPerMinute, cancellationToken);

    public Task WaitForSegmentProfilesAsync(string workspaceId, CancellationToken cancellationToken) =>
        WaitAsync(_segmentProfiles, workspaceId, SegmentProfilesPerSecond, SegmentProfilesPerMinute, cancellationToken);

    /// <summary>Get Profiles (75/s, 750/min), shared with the profile writes of the same account on Klaviyo's side.</summary>
    public Task WaitForProfilesAsync(string workspaceId, CancellationToken cancellationToken) =>
        WaitAsync(_profiles, workspaceId, SegmentProfilesPerSecond, SegmentProfilesPerMinute, cancellationToken);

    private static async Task WaitAsync(ConcurrentDictionary<string, (RateLimiter Burst, RateLimiter Steady)> limiters, string workspaceId,
        int perSecond, int perMinute, CancellationToken cancellationToken)
    {
        var (burst, steady) = limiters.GetOrAdd(workspaceId, _ => (
            Sliding(perSecond, TimeSpan.FromSeconds(1), 10),
            Sliding(perMinute, TimeSpan.FromMinutes(1), 60)));
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
