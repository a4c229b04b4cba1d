using System.Diagnostics;

namespace Lumo.Bench;

/// <summary>Throughput and latency of one measured operation, taken in this run.</summary>
public sealed record Measurement(string Name, int Operations, TimeSpan Elapsed, double P50Ms, double P99Ms)
{
    public double PerSecond => Operations / Elapsed.TotalSeconds;

    public override string ToString() => $"{Name,-34} {Operations,7} ops  {PerSecond,9:N0} ops/s  p50 {P50Ms,7:N2} ms  p99 {P99Ms,7:N2} ms";

    /// <summary>Runs <paramref name="operation"/> <paramref name="count"/> times with the given concurrency.</summary>
    public static async Task<Measurement> RunAsync(string name, int count, int concurrency, Func<int, Task> operation)
    {
        var latencies = new double[count];
        var next = -1;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var started = Stopwatch.GetTimestamp();
                await operation(i);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }));
        total.Stop();
        Array.Sort(latencies);
        return new Measurement(name, count, total.Elapsed, latencies[count / 2], latencies[Math.Min(count - 1, (int)(count * 0.99))]);
    }
}
