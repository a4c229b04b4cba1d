namespace Lumo.Bench;

/// <summary>
/// Samples the managed heap every 5 seconds (and once more at the end) while a measured run goes on; <see cref="PeakExtraBytes"/> is the most it
/// rose above the start, <see cref="HeldAfterBytes"/> what is still live once the run is over, <see cref="GcPause"/>
/// how long garbage collection held the process still meanwhile. The sandbox shares the process, so state the sandbox
/// gained (profiles written, for example) counts in both; what the run itself needed while it ran is about the difference.
/// </summary>
/// <remarks>
/// The samples are background collections, which mark the heap while the run goes on. Full blocking collections every
/// second (<c>GC.GetTotalMemory(true)</c>, as this did before) held the process still for 7.7 s of a 57 s consent
/// refresh, and so measured the sampler: the refresh looked 0.87 of LINE's ceiling where it runs at 0.95. A sample
/// is the heap after the collection less its free space: the live objects and what the young generations allocated
/// since their last collection, a little more than what is live. Each background collection marks the whole heap on
/// a core of its own: sampled once a second, that took 0.10–0.14 of a core from a resync of 40,000 friends (the
/// sandbox's profiles make the heap big), a core the floors it is compared with had for themselves. The runs
/// measured last from tens of seconds to minutes, and what they hold rises and falls over seconds (pages in flight,
/// an import job's friends), so 5 seconds still finds their peak.
/// </remarks>
public sealed class MemorySampler : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private readonly long _baselineHeap, _baselineLive;
    private readonly TimeSpan _pausedBefore;
    private long _peak;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    public MemorySampler()
    {
        _baselineLive = GC.GetTotalMemory(true);
        _baselineHeap = _peak = HeapAfterBackgroundCollectionAsync(CancellationToken.None).GetAwaiter().GetResult();
        _pausedBefore = GC.GetTotalPauseDuration();
        _sampling = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    _peak = Math.Max(_peak, await HeapAfterBackgroundCollectionAsync(_stop.Token));
                    await Task.Delay(Interval, _stop.Token);
                }
            }
            catch (OperationCanceledException) { }
        });
    }

    public long PeakExtraBytes => _peak - _baselineHeap;

    public long HeldAfterBytes { get; private set; }

    public TimeSpan GcPause { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
        _peak = Math.Max(_peak, await HeapAfterBackgroundCollectionAsync(CancellationToken.None));
        GcPause = GC.GetTotalPauseDuration() - _pausedBefore;
        HeldAfterBytes = GC.GetTotalMemory(true) - _baselineLive; // the run is over: a full collection costs it nothing
    }

    private static async Task<long> HeapAfterBackgroundCollectionAsync(CancellationToken cancellationToken)
    {
        var before = GC.GetGCMemoryInfo(GCKind.Background).Index;
        GC.Collect(2, GCCollectionMode.Forced, blocking: false);
        // The call returns once the collection started; it is done when the runtime reports a newer one. Without
        // concurrent collection (never the case here) it was a blocking one: give up waiting after a few seconds.
        for (var waited = 0; GC.GetGCMemoryInfo(GCKind.Background).Index == before && waited < 5_000; waited += 10)
            await Task.Delay(10, cancellationToken);
        var info = GC.GetGCMemoryInfo(GC.GetGCMemoryInfo(GCKind.Background).Index == before ? GCKind.Any : GCKind.Background);
        return info.HeapSizeBytes - info.FragmentedBytes;
    }
}
