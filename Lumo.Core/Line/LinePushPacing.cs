using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Line;

/// <summary>
/// Keeps this instance's pushes to one channel within its share of LINE's limit (<see cref="LineOptions.PushesPerSecondPerInstance"/>):
/// a token bucket per channel, refilled every 100 ms (or one token at a time for a share under 10/s), so that no
/// second ever sees more than the share plus one refill.
/// Pushes over the pace wait their turn; they are not refused.
/// </summary>
public sealed class LinePushPacing(IOptions<LineOptions> options)
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);
    private readonly ConcurrentDictionary<string, RateLimiter> _channels = new();

    public async ValueTask WaitAsync(LineAccountRef channel, CancellationToken cancellationToken)
    {
        var limiter = _channels.GetOrAdd($"{channel.WorkspaceId}:{channel.AccountId}", _ =>
        {
            // A share under 10/s gets one push per 1/share seconds instead of a token every 100 ms.
            var perSecond = options.Value.PushesPerSecondPerInstance;
            var (tokens, period) = perSecond >= 1 / Period.TotalSeconds ? ((int)(perSecond * Period.TotalSeconds), Period) : (1, TimeSpan.FromSeconds(1 / perSecond));
            return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = tokens, TokensPerPeriod = tokens, ReplenishmentPeriod = period, AutoReplenishment = true,
                QueueLimit = int.MaxValue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
        });
        using var lease = await limiter.AcquireAsync(1, cancellationToken);
    }
}
