namespace Lumo.Core.Http;

/// <summary>
/// At most <c>perSecond</c> calls in any second, whenever that second starts: each call waits until the call
/// <c>perSecond</c> calls before it is a second old. Behind a <see cref="SteadyPace"/> it only ever holds calls back
/// after the machine stalled, when the calls that waited through the stall would otherwise go out at once together
/// with the next second's (the sandbox, counting calls in clock seconds as LINE does, answered 429 to 0.1 % of a
/// consent refresh's profile calls before this, in a benchmark whose full garbage collections stalled the process
/// every second; a Functions host shares its machine too).
/// </summary>
public sealed class RollingSecondLimit(int perSecond, TimeProvider clock)
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);
    // When each of the latest perSecond calls went out; _next is the oldest of them, the one a new call replaces.
    private readonly DateTimeOffset[] _sent = new DateTimeOffset[perSecond];
    private readonly Lock _gate = new();
    private int _next;

    /// <summary>Waits until one more call fits in the second before it, and counts it.</summary>
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_gate)
            {
                var now = clock.GetUtcNow();
                wait = _sent[_next] + Second - now;
                if (wait <= TimeSpan.Zero)
                {
                    _sent[_next] = now;
                    _next = (_next + 1) % _sent.Length;
                    return;
                }
            }
            await Task.Delay(wait, clock, cancellationToken);
        }
    }
}
