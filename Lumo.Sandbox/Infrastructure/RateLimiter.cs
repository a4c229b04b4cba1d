using System.Collections.Concurrent;

namespace Lumo.Sandbox.Infrastructure;

/// <summary>A published rate limit: burst (per second), steady (per minute) and, for LINE broadcasts, per hour.</summary>
public sealed record RateLimit(string Bucket, int PerSecond, int PerMinute = 0, int PerHour = 0);

/// <summary>
/// Enforces rate limits per caller (channel or account) and bucket with fixed windows, and counts what it let
/// through and refused, so the benchmarks can compare our throughput with the ceiling.
/// </summary>
public sealed class RateLimiter(TimeProvider clock)
{
    private readonly ConcurrentDictionary<(string Caller, string Bucket), Windows> _windows = new();
    private readonly ConcurrentDictionary<(string? Caller, string Bucket), RateLimit> _overrides = new();
    public readonly ConcurrentDictionary<string, long> Accepted = new();
    public readonly ConcurrentDictionary<string, long> Limited = new();

    /// <summary>
    /// Replaces a bucket's published limit, for one caller or for all (tests that want a 429 without thousands of calls).
    /// </summary>
    public void Override(RateLimit limit, string? caller = null) => _overrides[(caller, limit.Bucket)] = limit;

    public void ClearOverrides() => _overrides.Clear();

    public RateLimit Effective(RateLimit published, string caller) =>
        _overrides.TryGetValue((caller, published.Bucket), out var mine) ? mine
        : _overrides.TryGetValue((null, published.Bucket), out var all) ? all : published;

    /// <summary>True when the call fits; otherwise how long until it would.</summary>
    public bool TryAcquire(string caller, RateLimit published, out TimeSpan retryAfter, out int remaining)
    {
        var limit = Effective(published, caller);
        var windows = _windows.GetOrAdd((caller, limit.Bucket), _ => new Windows());
        var now = clock.GetUtcNow();
        lock (windows)
        {
            var ok = windows.Second.Fits(now, TimeSpan.FromSeconds(1), limit.PerSecond, out var waitSecond)
                   & windows.Minute.Fits(now, TimeSpan.FromMinutes(1), limit.PerMinute, out var waitMinute)
                   & windows.Hour.Fits(now, TimeSpan.FromHours(1), limit.PerHour, out var waitHour);
            retryAfter = new[] { waitSecond, waitMinute, waitHour }.Max();
            if (ok)
            {
                windows.Second.Count++;
                windows.Minute.Count++;
                windows.Hour.Count++;
                Accepted.AddOrUpdate(limit.Bucket, 1, (_, n) => n + 1);
            }
            else
            {
                Limited.AddOrUpdate(limit.Bucket, 1, (_, n) => n + 1);
            }
            remaining = limit.PerMinute > 0 ? Math.Max(0, limit.PerMinute - windows.Minute.Count) : Math.Max(0, limit.PerSecond - windows.Second.Count);
            return ok;
        }
    }

    public void Reset()
    {
        _windows.Clear();
        Accepted.Clear();
        Limited.Clear();
    }

    private sealed class Windows
    {
        public readonly Window Second = new(), Minute = new(), Hour = new();
    }

    private sealed class Window
    {
        public DateTimeOffset Start;
        public int Count;

        public bool Fits(DateTimeOffset now, TimeSpan length, int max, out TimeSpan wait)
        {
            wait = TimeSpan.Zero;
            if (max <= 0) return true;
            if (now - Start >= length)
            {
                Start = new DateTimeOffset(now.UtcTicks - now.UtcTicks % length.Ticks, TimeSpan.Zero);
                Count = 0;
            }
            if (Count < max) return true;
            wait = Start + length - now;
            return false;
        }
    }
}
