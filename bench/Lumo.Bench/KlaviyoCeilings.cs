using Lumo.Core.KlaviyoEvents;

namespace Lumo.Bench;

/// <summary>What Klaviyo's published limits allow at the fastest, to compare a measured run with.</summary>
public static class KlaviyoCeilings
{
    /// <summary>
    /// The shortest time the 75-a-second, 750-a-minute limits (profiles, list and segment members) allow for reading
    /// <paramref name="pages"/> pages: 75 a second until a minute's 750 are spent, then the next 750 from the next minute on.
    /// </summary>
    public static TimeSpan FastestAllowed(long pages)
    {
        var fullMinutes = (pages - 1) / KlaviyoRateLimits.SegmentProfilesPerMinute;
        var rest = pages - fullMinutes * KlaviyoRateLimits.SegmentProfilesPerMinute;
        return TimeSpan.FromSeconds(60 * fullMinutes + rest / (double)KlaviyoRateLimits.SegmentProfilesPerSecond);
    }
}
