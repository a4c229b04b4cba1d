using Lumo.Core.KlaviyoEvents;

namespace Lumo.Core.Klaviyo;

/// <summary>How a walk through a segment ended: all pages seen, the segment gone, or time up with the page to go on from.</summary>
public sealed record SegmentWalkEnd(bool SegmentGone, string? ContinueFrom)
{
    public bool Completed => !SegmentGone && ContinueFrom is null;
}

/// <summary>
/// Pages a Klaviyo segment's members within Klaviyo's segment-members limits, fetching the next page while the
/// current one is worked on, and stops at a page boundary once a time budget is spent, so that a long segment is
/// handed over to a fresh invocation before the function timeout. Memory holds one page (two while prefetching).
/// </summary>
public sealed class SegmentWalk(KlaviyoClient klaviyo, KlaviyoRateLimits limits, TimeProvider clock)
{
    public async Task<SegmentWalkEnd> RunAsync(string workspaceId, string segmentId, string? next, DateTimeOffset started, TimeSpan budget,
        Func<IReadOnlyList<KlaviyoProfile>, Task> onPage, CancellationToken cancellationToken)
    {
        var page = FetchAsync(workspaceId, segmentId, next, cancellationToken);
        while (true)
        {
            KlaviyoPage<KlaviyoProfile> current;
            try
            {
                current = await page;
            }
            catch (KlaviyoApiException e) when (e.Status == 404)
            {
                return new SegmentWalkEnd(SegmentGone: true, null);
            }
            if (current.Next is not null) page = FetchAsync(workspaceId, segmentId, current.Next, cancellationToken);
            await onPage(current.Items);
            if (current.Next is null) return new SegmentWalkEnd(false, null);
            if (clock.GetUtcNow() - started > budget) return new SegmentWalkEnd(false, current.Next);
        }
    }

    private async Task<KlaviyoPage<KlaviyoProfile>> FetchAsync(string workspaceId, string segmentId, string? next, CancellationToken cancellationToken)
    {
        await limits.WaitForSegmentProfilesAsync(workspaceId, cancellationToken);
        return await klaviyo.GetSegmentProfilesPageAsync(workspaceId, segmentId, next, cancellationToken);
    }
}
