using Lumo.Core.Connections;
using Lumo.Core.Klaviyo;
using Lumo.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Lumo.Core.KlaviyoEvents;

/// <summary>What one export run did.</summary>
public sealed record ExportResult(int Sent, int Parked, bool LeaseHeldElsewhere, bool MoreRemain, bool Paused = false);

/// <summary>
/// Drains a workspace's outbox into Klaviyo Bulk Create Events jobs (≤ 1,000 events, ≤ 5 MB each), paced to the
/// published limits. One exporter per workspace at a time (a short lease, renewed while the run lasts, so that a
/// crashed exporter holds the workspace up for one lease duration at most). Events leave the outbox only
/// once Klaviyo accepted them, and carry deterministic unique ids, so a crash or retry never records one twice.
/// <list type="bullet">
/// <item>Throttling, server errors, timeouts and lost connections are retried with growing, jittered delays that
/// honour <c>Retry-After</c>, for as long as the events are useful (<see cref="KlaviyoExportOptions.MaxRetryAge"/>); only then are they
/// parked. A run that would wait past its budget hands over to a later invocation instead.</item>
/// <item>A refused credential (401/403) pauses the workspace's Klaviyo work (<c>needs-reconnect</c>) and parks nothing.</item>
/// <item>A request Klaviyo refuses for its content is split until the offending events stand alone; those are parked.</item>
/// </list>
/// </summary>
public sealed class KlaviyoEventExporter(KlaviyoEventOutbox outbox, KlaviyoClient klaviyo, KlaviyoRateLimits limits, LeaseStore leases,
    KlaviyoConnectionHealth health, LumoQueues queues, IOptions<KlaviyoExportOptions> options, TimeProvider clock, ILogger<KlaviyoEventExporter> logger)
{
    public const int MaxEventsPerRequest = 1_000;
    public const int MaxBytesPerRequest = 4_500_000; // under the 5 MB limit, leaving room for our size estimate
    private const string LeaseScope = "klaviyo-event-export";
    private readonly string _owner = Guid.NewGuid().ToString("N");

    private KlaviyoExportOptions Options => options.Value;

    public async Task<ExportResult> ExportAsync(string workspaceId, CancellationToken cancellationToken)
    {
        if (await health.IsPausedAsync(workspaceId, cancellationToken))
            return new ExportResult(0, 0, false, false, Paused: true);
        await using var lease = await leases.HoldAsync(LeaseScope, workspaceId, _owner, Options.LeaseDuration, cancellationToken);
        if (lease is null) return new ExportResult(0, 0, LeaseHeldElsewhere: true, MoreRemain: false);

        using var run = new Run(workspaceId, clock.GetUtcNow() + Options.RunBudget);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Lost, run.OutOfBudget.Token);
        try
        {
            while (true)
            {
                var batch = await outbox.TakeAsync(workspaceId, MaxEventsPerRequest, MaxBytesPerRequest, stop.Token);
                if (batch.Count == 0) return run.Result(moreRemain: false);
                await SendAsync(run, batch, stop.Token);
                if (clock.GetUtcNow() > run.Deadline) return await HandOverAsync(run, TimeSpan.Zero, cancellationToken);
            }
        }
        catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
        {
            await health.PauseIfRefusedAsync(workspaceId, "event export", e, CancellationToken.None);
            return run.Result(moreRemain: true) with { Paused = true }; // the events wait in the outbox
        }
        catch (OperationCanceledException) when (run.OutOfBudget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The next attempt would start after the budget: a later invocation makes it, at the time it was due.
            return await HandOverAsync(run, run.NextAttemptIn, cancellationToken);
        }
        catch (OperationCanceledException) when (lease.Lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Lost the export lease of workspace {WorkspaceId}; stopping this run", workspaceId);
            return run.Result(moreRemain: true);
        }
        finally
        {
            logger.LogInformation("Exported {Sent} events of workspace {WorkspaceId} to Klaviyo, parked {Parked}", run.Sent, workspaceId, run.Parked);
        }
    }

    private async Task<ExportResult> HandOverAsync(Run run, TimeSpan delay, CancellationToken cancellationToken)
    {
        await queues.EnqueueAsync(QueueNames.KlaviyoEventExport, new ExportKlaviyoEventsRequest(run.WorkspaceId), cancellationToken, delay);
        return run.Result(moreRemain: true);
    }

    private async Task SendAsync(Run run, List<OutboxEntry> batch, CancellationToken cancellationToken)
    {
        try
        {
            // The same event recorded twice (same unique_id) goes out once; both copies leave the outbox.
            var events = batch.DistinctBy(e => e.Key).Select(e => e.Event).ToList();
            await RetryTransient(run, batch).ExecuteAsync(async ct =>
            {
                await limits.WaitForBulkEventsAsync(run.WorkspaceId, ct);
                await klaviyo.CreateEventsInBulkAsync(run.WorkspaceId, events, ct);
            }, cancellationToken);
            await outbox.RemoveAsync(run.WorkspaceId, batch, cancellationToken);
            run.Sent += events.Count;
        }
        catch (KlaviyoApiException e) when (e.IsTransient)
        {
            // Only events past their useful age get here (see RetryTransient): park them, leave the rest for later.
            var stale = batch.Where(entry => IsStale(entry)).ToList();
            var reason = $"Klaviyo kept failing until the event was older than {Options.MaxRetryAge} (Lumo:KlaviyoEvents:MaxRetryAge): {e.Status} {e.Code} {e.Message}";
            logger.LogError("Parking {Count} events of workspace {WorkspaceId}: {Reason}", stale.Count, run.WorkspaceId, reason);
            await outbox.ParkAsync(run.WorkspaceId, stale, reason, clock.GetUtcNow(), cancellationToken);
            run.Parked += stale.Count;
        }
        catch (KlaviyoApiException e) when (!e.IsAuthenticationFailure)
        {
            await IsolateRefusedAsync(run, batch, e, cancellationToken);
        }
    }

    // Klaviyo refuses a whole request for one bad event: halve until the bad ones stand alone, park those.
    private async Task IsolateRefusedAsync(Run run, List<OutboxEntry> batch, KlaviyoApiException refusal, CancellationToken cancellationToken)
    {
        if (batch.Count == 1)
        {
            var reason = $"Klaviyo refused the event: {refusal.Status} {refusal.Code} {refusal.Message}";
            logger.LogWarning("Parking event {Metric} for profile {ProfileId}: {Reason}", batch[0].Event.Metric, batch[0].Event.ProfileId, reason);
            await outbox.ParkAsync(run.WorkspaceId, batch, reason, clock.GetUtcNow(), cancellationToken);
            run.Parked++;
            return;
        }
        var half = batch.Count / 2;
        await SendAsync(run, batch[..half], cancellationToken);
        await SendAsync(run, batch[half..], cancellationToken);
    }

    private bool IsStale(OutboxEntry entry) => clock.GetUtcNow() - entry.Event.Time > Options.MaxRetryAge;

    /// <summary>
    /// Retries transient failures without a count limit: exponential, jittered delays up to the configured maximum,
    /// or exactly what Klaviyo's <c>Retry-After</c> asks. Gives up when an event in the batch is past
    /// the maximum retry age, and cancels the run's budget when the next attempt would come after its deadline.
    /// </summary>
    private ResiliencePipeline RetryTransient(Run run, List<OutboxEntry> batch) => new ResiliencePipelineBuilder { TimeProvider = clock }
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<KlaviyoApiException>(e => e.IsTransient && !batch.Any(IsStale)),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromSeconds(1),
            MaxDelay = Options.MaxBackoff,
            DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception is KlaviyoApiException { RetryAfter: { } wait } && wait > TimeSpan.Zero
                ? (TimeSpan?)wait : null),
            OnRetry = args =>
            {
                var error = args.Outcome.Exception as KlaviyoApiException;
                logger.LogWarning("Klaviyo bulk events of workspace {WorkspaceId} failed ({Status} {Code}); attempt {Attempt} in {Delay}",
                    run.WorkspaceId, error?.Status, error?.Code, args.AttemptNumber + 2, args.RetryDelay);
                if (clock.GetUtcNow() + args.RetryDelay > run.Deadline)
                {
                    run.NextAttemptIn = args.RetryDelay;
                    run.OutOfBudget.Cancel();
                }
                return ValueTask.CompletedTask;
            },
        })
        .Build();

    private sealed class Run(string workspaceId, DateTimeOffset deadline) : IDisposable
    {
        public string WorkspaceId { get; } = workspaceId;
        public DateTimeOffset Deadline { get; } = deadline;
        public CancellationTokenSource OutOfBudget { get; } = new();
        public TimeSpan NextAttemptIn { get; set; }
        public int Sent { get; set; }
        public int Parked { get; set; }

        public ExportResult Result(bool moreRemain) => new(Sent, Parked, false, moreRemain);

        public void Dispose() => OutOfBudget.Dispose();
    }
}
