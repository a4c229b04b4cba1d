using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Line;

/// <summary>
/// Keeps this instance's pushes to one channel within its share of LINE's limit (<see cref="LineOptions.PushesPerSecondPerInstance"/>):
/// a token bucket per channel refilled about every 100 ms at exactly the share's rate, so that no second ever sees
/// more than the share plus one refill. At most <see cref="MaxWait"/> of pushes wait their turn; beyond that the
/// caller hands the push to the queue.
/// Pushes over the pace wait their turn; they are not refused.
/// </summary>
public sealed class LinePushPacing(IOptions<LineOptions> options)
{
    /// <summary>The longest a push waits for its turn; past it the push is handed to the queue instead (a webhook must not hang).</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, RateLimiter> _channels = new();

    /// <summary>Waits for the push's turn; false when it would not come within <see cref="MaxWait"/>.</summary>
    public async ValueTask<bool> TryWaitAsync(LineAccountRef channel, CancellationToken cancellationToken)
    {
        var limiter = _channels.GetOrAdd($"{channel.WorkspaceId}:{channel.AccountId}", _ =>
        {
            // About a tenth of a second's share per refill, at exactly the share's rate (18/s: one token every 56 ms).
            var perSecond = options.Value.PushesPerSecondPerInstance;
            var tokens = Math.Max(1, (int)(perSecond / 10));
            return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = tokens, TokensPerPeriod = tokens, ReplenishmentPeriod = TimeSpan.FromSeconds(tokens / perSecond), AutoReplenishment = true,
                QueueLimit = (int)Math.Ceiling(perSecond * MaxWait.TotalSeconds), QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
        });
        using var lease = await limiter.AcquireAsync(1, cancellationToken);
        return lease.IsAcquired;
    }
}
