using Lumo.Core.Klaviyo;
using Lumo.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.KlaviyoEvents;

/// <summary>What one export run did.</summary>
public sealed record ExportResult(int Sent, int Parked, bool LeaseHeldElsewhere, bool MoreRemain);

/// <summary>
/// Drains a workspace's outbox into Klaviyo Bulk Create Events jobs (≤ 1,000 events, ≤ 5 MB each), paced to the
/// published limits. One exporter per workspace at a time (a lease). Events leave the outbox only once Klaviyo
/// accepted them, and are sent with deterministic unique ids, so a crash or retry never records one twice.
/// A batch Klaviyo refuses is split until the offending events are found and parked; the rest are sent.
/// Transient failures are retried with backoff (honouring Retry-After) and parked after
/// <see cref="MaxTransientAttempts"/>.
/// </summary>
public sealed class KlaviyoEventExporter(KlaviyoEventOutbox outbox, KlaviyoClient klaviyo, KlaviyoRateLimits limits, LeaseStore leases,
    LumoQueues queues, TimeProvider clock, ILogger<KlaviyoEventExporter> logger)
{
    public const int MaxEventsPerRequest = 1_000;
    public const int MaxBytesPerRequest = 4_500_000; // under the 5 MB limit, leaving room for our size estimate
    public const int MaxTransientAttempts = 5;
    private const string LeaseScope = "klaviyo-event-export";
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(2);
    private readonly string _owner = Guid.NewGuid().ToString("N");

    /// <summary>How long one run keeps exporting before it hands over to a fresh invocation.</summary>
    public TimeSpan RunBudget { get; init; } = TimeSpan.FromMinutes(4);

    public async Task<ExportResult> ExportAsync(string workspaceId, CancellationToken cancellationToken)
    {
        if (!await leases.TryAcquireAsync(LeaseScope, workspaceId, _owner, LeaseDuration, cancellationToken))
            return new ExportResult(0, 0, LeaseHeldElsewhere: true, MoreRemain: false);
        var started = clock.GetUtcNow();
        var (sent, parked) = (0, 0);
        try
        {
            while (true)
            {
                var batch = await outbox.TakeAsync(workspaceId, MaxEventsPerRequest, MaxBytesPerRequest, cancellationToken);
                if (batch.Count == 0) return new ExportResult(sent, parked, false, false);
                var (s, p) = await SendAsync(workspaceId, batch, cancellationToken);
                (sent, parked) = (sent + s, parked + p);
                if (clock.GetUtcNow() - started > RunBudget)
                {
                    // Hand over rather than run into the function timeout; the lease is released below.
                    await queues.EnqueueAsync(QueueNames.KlaviyoEventExport, new ExportKlaviyoEventsRequest(workspaceId), cancellationToken);
                    return new ExportResult(sent, parked, false, true);
                }
                await leases.TryAcquireAsync(LeaseScope, workspaceId, _owner, LeaseDuration, cancellationToken); // renew
            }
        }
        finally
        {
            logger.LogInformation("Exported {Sent} events of workspace {WorkspaceId} to Klaviyo, parked {Parked}", sent, workspaceId, parked);
            await leases.ReleaseAsync(LeaseScope, workspaceId, _owner, CancellationToken.None);
        }
    }

    private async Task<(int Sent, int Parked)> SendAsync(string workspaceId, List<OutboxEntry> batch, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await limits.WaitForBulkEventsAsync(workspaceId, cancellationToken);
            try
            {
                // The same event recorded twice (same unique_id) goes out once; both copies leave the outbox.
                var events = batch.DistinctBy(e => e.Key).Select(e => e.Event).ToList();
                await klaviyo.CreateEventsInBulkAsync(workspaceId, events, cancellationToken);
                await outbox.RemoveAsync(workspaceId, batch, cancellationToken);
                return (events.Count, 0);
            }
            catch (KlaviyoApiException e) when (e.Status == 429)
            {
                // Throttling is not a failure of the batch: wait as told, however often.
                await Task.Delay(e.RetryAfter is { } wait && wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1), clock, cancellationToken);
                attempt--;
            }
            catch (KlaviyoApiException e) when (e.IsTransient)
            {
                if (attempt >= MaxTransientAttempts)
                {
                    var reason = $"Klaviyo failed {attempt} times: {e.Status} {e.Code} {e.Message}";
                    logger.LogError("Parking {Count} events of workspace {WorkspaceId}: {Reason}", batch.Count, workspaceId, reason);
                    await outbox.ParkAsync(workspaceId, batch, reason, clock.GetUtcNow(), cancellationToken);
                    return (0, batch.Count);
                }
                var backoff = TimeSpan.FromMilliseconds(200 * Math.Pow(2, attempt - 1));
                await Task.Delay(e.RetryAfter is { } wait && wait > backoff ? wait : backoff, clock, cancellationToken);
            }
            catch (KlaviyoApiException e)
            {
                return await IsolateRefusedAsync(workspaceId, batch, e, cancellationToken);
            }
        }
    }

    // Klaviyo refuses a whole request for one bad event: halve until the bad ones stand alone, park those.
    private async Task<(int Sent, int Parked)> IsolateRefusedAsync(string workspaceId, List<OutboxEntry> batch, KlaviyoApiException refusal, CancellationToken cancellationToken)
    {
        if (batch.Count == 1)
        {
            var reason = $"Klaviyo refused the event: {refusal.Status} {refusal.Code} {refusal.Message}";
            logger.LogWarning("Parking event {Metric} for profile {ProfileId}: {Reason}", batch[0].Event.Metric, batch[0].Event.ProfileId, reason);
            await outbox.ParkAsync(workspaceId, batch, reason, clock.GetUtcNow(), cancellationToken);
            return (0, 1);
        }
        var half = batch.Count / 2;
        var first = await SendAsync(workspaceId, batch[..half], cancellationToken);
        var second = await SendAsync(workspaceId, batch[half..], cancellationToken);
        return (first.Sent + second.Sent, first.Parked + second.Parked);
    }
}
