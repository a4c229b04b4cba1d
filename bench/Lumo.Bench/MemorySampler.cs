namespace Lumo.Bench;

/// <summary>
/// Samples live managed memory (after a full collection, so garbage does not count) once a second while a measured
/// run goes on; <see cref="PeakExtraBytes"/> is the most it rose above the start, <see cref="HeldAfterBytes"/> what is
/// still live once the run is over. The sandbox shares the process, so state the sandbox gained (profiles written,
/// for example) counts in both; what the run itself needed while it ran is about the difference.
/// </summary>
public sealed class MemorySampler : IAsyncDisposable
{
    private readonly long _baseline;
    private long _peak;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    public MemorySampler()
    {
        GC.Collect();
        _baseline = _peak = GC.GetTotalMemory(true);
        _sampling = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                _peak = Math.Max(_peak, GC.GetTotalMemory(true));
                try { await Task.Delay(1000, _stop.Token); } catch (OperationCanceledException) { }
            }
        });
    }

    public long PeakExtraBytes => _peak - _baseline;

    public long HeldAfterBytes { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
        HeldAfterBytes = GC.GetTotalMemory(true) - _baseline;
    }
}
