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

    /// <summary>
    /// The same limits as the sandbox enforces them for a run that started at <paramref name="start"/>: in windows aligned to
    /// the clock's seconds and minutes, so a run that crosses a minute's end gets that minute's 750 and the next one's
    /// without waiting (each second's pages take a 75th of a second each). This is the ceiling a run was measured against;
    /// <see cref="FastestAllowed(long)"/> is the one Klaviyo's published limits promise for any start.
    /// </summary>
    public static TimeSpan FastestAllowed(long pages, DateTimeOffset start)
    {
        int perSecond = KlaviyoRateLimits.SegmentProfilesPerSecond, perMinute = KlaviyoRateLimits.SegmentProfilesPerMinute;
        static DateTimeOffset Floor(DateTimeOffset t, TimeSpan length) => new(t.UtcTicks - t.UtcTicks % length.Ticks, TimeSpan.Zero);
        var (t, left, minute, usedInMinute) = (start, pages, Floor(start, TimeSpan.FromMinutes(1)), 0L);
        while (true)
        {
            if (Floor(t, TimeSpan.FromMinutes(1)) != minute) (minute, usedInMinute) = (Floor(t, TimeSpan.FromMinutes(1)), 0);
            var sent = Math.Min(left, Math.Min(perSecond, perMinute - usedInMinute));
            (left, usedInMinute) = (left - sent, usedInMinute + sent);
            if (left == 0) return t - start + TimeSpan.FromSeconds(sent / (double)perSecond);
            t = usedInMinute == perMinute ? minute + TimeSpan.FromMinutes(1) : Floor(t, TimeSpan.FromSeconds(1)) + TimeSpan.FromSeconds(1);
        }
    }
}
