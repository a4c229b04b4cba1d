namespace Lumo.Sandbox.Infrastructure;

/// <summary>
/// A fault to inject at a rate (0..1) into requests of one vendor, optionally only under a path prefix.
/// <see cref="FailAfterProcessingRate"/> is the nastiest: the request takes effect, then the caller sees a 500,
/// which is what exactly-once code must survive.
/// </summary>
public sealed record FaultRule
{
    public string Vendor { get; init; } = "*";
    public string? PathPrefix { get; init; }
    /// <summary>Only requests of this channel or account (so that parallel tests do not disturb each other).</summary>
    public string? Caller { get; init; }
    public double TooManyRequestsRate { get; init; }
    public int RetryAfterSeconds { get; init; } = 1;
    public double ServerErrorRate { get; init; }
    public double ServiceUnavailableRate { get; init; }
    public double DropConnectionRate { get; init; }
    public double FailAfterProcessingRate { get; init; }
    /// <summary>The first N matching requests answer 503, the rest pass: a deterministic outage for retry tests.</summary>
    public int FailFirstRequests { get; init; }
    public double LatencyRate { get; init; }
    public int LatencyMilliseconds { get; init; }
    /// <summary>The rule applies until then (an outage of a known length), and never after.</summary>
    public DateTimeOffset? ActiveUntil { get; init; }
}

public enum FaultKind { None, TooManyRequests, ServerError, ServiceUnavailable, DropConnection }

public sealed record FaultDecision(FaultKind Before, TimeSpan Latency, bool FailAfterProcessing, int RetryAfterSeconds)
{
    public static readonly FaultDecision None = new(FaultKind.None, TimeSpan.Zero, false, 0);
}

/// <summary>Decides, per request, which configured fault (if any) hits it, and counts what it injected.</summary>
public sealed class FaultInjector
{
    private readonly object _gate = new();
    private List<FaultRule> _rules = [];
    private Random _random = new(1234);
    private readonly Dictionary<FaultRule, int> _matched = new(ReferenceEqualityComparer.Instance);
    public long Injected;
    /// <summary>Requests per caller that took effect and were then answered 500: each one explains one repeat the caller may send.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, long> FailedAfterProcessing { get; } = new();

    public void Set(IEnumerable<FaultRule> rules, int? seed = null)
    {
        lock (_gate)
        {
            _rules = rules.ToList();
            if (seed is not null) _random = new Random(seed.Value);
        }
    }

    public void Clear() => Set([]);

    public void Add(FaultRule rule)
    {
        lock (_gate) _rules = [.. _rules, rule];
    }

    public void Remove(Func<FaultRule, bool> match)
    {
        lock (_gate) _rules = _rules.Where(r => !match(r)).ToList();
    }

    public FaultDecision Decide(string vendor, string caller, string path)
    {
        lock (_gate)
        {
            var rule = _rules.FirstOrDefault(r => (r.Vendor == "*" || r.Vendor == vendor) && (r.Caller is null || r.Caller == caller)
                                                  && (r.PathPrefix is null || path.StartsWith(r.PathPrefix, StringComparison.Ordinal))
                                                  && (r.ActiveUntil is null || DateTimeOffset.UtcNow < r.ActiveUntil));
            if (rule is null) return FaultDecision.None;
            if (rule.FailFirstRequests > 0)
            {
                _matched[rule] = _matched.GetValueOrDefault(rule) + 1;
                if (_matched[rule] <= rule.FailFirstRequests)
                {
                    Interlocked.Increment(ref Injected);
                    return new FaultDecision(FaultKind.ServiceUnavailable, TimeSpan.Zero, false, rule.RetryAfterSeconds);
                }
            }
            var latency = _random.NextDouble() < rule.LatencyRate ? TimeSpan.FromMilliseconds(rule.LatencyMilliseconds) : TimeSpan.Zero;
            var roll = _random.NextDouble();
            var kind = FaultKind.None;
            foreach (var (rate, candidate) in new[] { (rule.TooManyRequestsRate, FaultKind.TooManyRequests), (rule.ServerErrorRate, FaultKind.ServerError),
                         (rule.ServiceUnavailableRate, FaultKind.ServiceUnavailable), (rule.DropConnectionRate, FaultKind.DropConnection) })
            {
                if (roll < rate) { kind = candidate; break; }
                roll -= rate;
            }
            var failAfter = kind == FaultKind.None && _random.NextDouble() < rule.FailAfterProcessingRate;
            if (kind != FaultKind.None || failAfter) Interlocked.Increment(ref Injected);
            if (failAfter) FailedAfterProcessing.AddOrUpdate(caller, 1, (_, n) => n + 1);
            return new FaultDecision(kind, latency, failAfter, rule.RetryAfterSeconds);
        }
    }
}
