using System.Collections.Concurrent;

namespace Lumo.Core.Shopify;

/// <summary>
/// Keeps each store's GraphQL cost bucket as Shopify last reported it (<c>extensions.cost.throttleStatus</c>), so a
/// query waits here until its requested cost should be available instead of being sent and answered
/// <c>THROTTLED</c> (https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits). One per process:
/// another instance's queries show up in the next answer's figures.
/// </summary>
public sealed class ShopifyCostPacer(TimeProvider clock)
{
    private sealed record Bucket(double Available, double Maximum, double RestoreRate, DateTimeOffset At);

    private static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(5);
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new();

    /// <summary>How long to wait before a query of <paramref name="requestedCost"/> points to <paramref name="shop"/>; zero when unknown.</summary>
    public TimeSpan WaitFor(ShopDomain shop, int requestedCost)
    {
        if (!_buckets.TryGetValue(shop.Value, out var bucket) || bucket.RestoreRate <= 0) return TimeSpan.Zero;
        var now = clock.GetUtcNow();
        var available = Math.Min(bucket.Maximum, bucket.Available + (now - bucket.At).TotalSeconds * bucket.RestoreRate);
        var need = Math.Min(requestedCost, bucket.Maximum) - available;
        // A few milliseconds more: a timer may fire a little early, and a query sent a hair too soon is a wasted round trip.
        return need <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(need / bucket.RestoreRate) + Margin;
    }

    public void Report(ShopDomain shop, double currentlyAvailable, double maximumAvailable, double restoreRate) =>
        _buckets[shop.Value] = new Bucket(currentlyAvailable, maximumAvailable, restoreRate, clock.GetUtcNow());
}
