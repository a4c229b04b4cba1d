using System.Collections.Concurrent;
using Lumo.Core.Http;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Line;

/// <summary>
/// Keeps this instance's pushes to one channel within its share of LINE's limit (<see cref="LineOptions.PushesPerSecondPerInstance"/>):
/// each push reserves the next slot on the clock (<see cref="SteadyPace"/>), so no second sees more than the share plus a
/// tenth of a second's worth after a pause. A token bucket refilled by a timer was not enough: on a busy machine its late
/// ticks ran back to back and let two refills through at once. At most <see cref="MaxWait"/> of pushes wait their turn;
/// beyond that the caller hands the push to the queue (pushes over the pace wait, they are not refused).
/// </summary>
public sealed class LinePushPacing(IOptions<LineOptions> options)
{
    /// <summary>The longest a push waits for its turn; past it the push is handed to the queue instead (a webhook must not hang).</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Burst = TimeSpan.FromMilliseconds(100);
    private readonly ConcurrentDictionary<string, SteadyPace> _channels = new();

    /// <summary>Waits for the push's turn; false when it would not come within <see cref="MaxWait"/>.</summary>
    public ValueTask<bool> TryWaitAsync(LineAccountRef channel, CancellationToken cancellationToken) =>
        _channels.GetOrAdd($"{channel.WorkspaceId}:{channel.AccountId}", _ => new SteadyPace(options.Value.PushesPerSecondPerInstance, Burst, TimeProvider.System))
            .TryWaitAsync(MaxWait, cancellationToken);
}
