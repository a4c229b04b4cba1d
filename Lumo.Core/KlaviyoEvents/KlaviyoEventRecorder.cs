using Lumo.Core.Storage;
using Microsoft.Extensions.Caching.Memory;

namespace Lumo.Core.KlaviyoEvents;

/// <summary>Queue message: export a workspace's pending Klaviyo events.</summary>
public sealed record ExportKlaviyoEventsRequest(string WorkspaceId);

/// <summary>
/// The one way every capability records a LINE action in Klaviyo: the event is written to the outbox (durable,
/// de-duplicated by its unique id) and an export is requested. Sending, batching, pacing and parking are the
/// exporter's job.
/// </summary>
public sealed class KlaviyoEventRecorder(KlaviyoEventOutbox outbox, LumoQueues queues, IMemoryCache recentRequests)
{
    // Requests within one window share one export request, which becomes visible only after the window has
    // closed: every event it stands for is in the outbox (written before the request) by the time it runs.
    public static readonly TimeSpan CoalescingWindow = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan ExportDelay = TimeSpan.FromSeconds(2);

    public async Task RecordAsync(KlaviyoEvent e, CancellationToken cancellationToken)
    {
        await outbox.AddAsync(e, cancellationToken);
        await RequestExportAsync(e.WorkspaceId, cancellationToken);
    }

    /// <summary>Records many events of one workspace at once (packed into as few outbox rows as fit).</summary>
    public async Task RecordManyAsync(string workspaceId, IReadOnlyList<KlaviyoEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0) return;
        await outbox.AddManyAsync(events, cancellationToken);
        await RequestExportAsync(workspaceId, cancellationToken);
    }

    public async Task RequestExportAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var marker = "klaviyo-export-requested:" + workspaceId;
        if (recentRequests.TryGetValue(marker, out _)) return;
        recentRequests.Set(marker, true, CoalescingWindow);
        await queues.EnqueueAsync(QueueNames.KlaviyoEventExport, new ExportKlaviyoEventsRequest(workspaceId), cancellationToken, ExportDelay);
    }

    /// <summary>
    /// For an export request that found another export running: that one may have looked at the outbox before this
    /// request's events arrived, so ask again shortly instead of dropping the request. One follow-up per delay is
    /// enough; without this coalescing every waiting request would re-enqueue itself and the requests would pile up
    /// while a long export runs.
    /// </summary>
    public async Task RequestExportLaterAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var marker = "klaviyo-export-follow-up:" + workspaceId;
        if (recentRequests.TryGetValue(marker, out _)) return;
        recentRequests.Set(marker, true, ExportDelay);
        await queues.EnqueueAsync(QueueNames.KlaviyoEventExport, new ExportKlaviyoEventsRequest(workspaceId), cancellationToken, ExportDelay);
    }
}
