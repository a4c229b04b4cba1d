using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Lumo.Core.Storage;

namespace Lumo.Bench;

/// <summary>Counts the storage requests the app in this process makes (its <c>Lumo.Storage</c> meter), by kind, between snapshots.</summary>
public sealed class StorageOperations : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new();

    public StorageOperations()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == StorageRequestMetrics.MeterName && instrument.Name == StorageRequestMetrics.InstrumentName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "kind") _counts.AddOrUpdate((string)tag.Value!, value, (_, n) => n + value);
        });
        _listener.Start();
    }

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_counts);

    /// <summary>Requests per unit of work since <paramref name="before"/>, by kind, e.g. "table point read 1.00, table transaction 2.00".</summary>
    public string PerUnit(IReadOnlyDictionary<string, long> before, int units, out double total)
    {
        var now = Snapshot();
        var diff = now.Select(kv => (kv.Key, Count: kv.Value - before.GetValueOrDefault(kv.Key))).Where(d => d.Count > 0).OrderByDescending(d => d.Count).ToList();
        total = diff.Sum(d => d.Count) / (double)units;
        return string.Join(", ", diff.Select(d => $"{d.Key} {d.Count / (double)units:N2}"));
    }

    public void Dispose() => _listener.Dispose();
}
