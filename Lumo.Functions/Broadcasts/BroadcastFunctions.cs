using Lumo.Core.Broadcasts;
using Lumo.Core.RichMenus;
using Lumo.Core.Segments;
using Lumo.Core.Storage;
using Lumo.Functions.Admin;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.Broadcasts;

/// <summary>
/// Timer StartDueBroadcasts (every minute) queues scheduled broadcasts whose time has come (and preparations whose
/// preparer died); queue function RunBroadcast prepares and dispatches one; SendBroadcastChunk sends one chunk;
/// CountSegment evaluates a segment for its member count; SyncRichMenusSchedule (every 15 minutes) queues, and
/// SyncRichMenus runs, the rich menu sync of each account with a menu assigned to a segment.
/// </summary>
public static class BroadcastFunctions
{
    public static IEndpointRouteBuilder MapBroadcasts(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction("StartDueBroadcasts", StartDue);
        routes.MapTriggerFunction("RunBroadcast", Run);
        routes.MapTriggerFunction("SendBroadcastChunk", SendChunk);
        routes.MapTriggerFunction("CountSegment", Count);
        routes.MapTriggerFunction("SyncRichMenusSchedule", ScheduleRichMenuSyncs);
        routes.MapTriggerFunction("SyncRichMenus", SyncRichMenus);
        return routes;
    }

    /// <summary>The admin endpoints of segments and broadcasts, under the manage API.</summary>
    public static RouteGroupBuilder MapBroadcastAdmin(this RouteGroupBuilder manage) => manage.MapSegmentEndpoints().MapBroadcastEndpoints().MapRichMenuEndpoints();

    public static async Task<IResult> ScheduleRichMenuSyncs(InvocationEnvelope invocation, RichMenuStore store, RichMenuAdministration admin, CancellationToken ct)
    {
        var accounts = await store.ListAccountsWithAssignmentsAsync(ct);
        foreach (var (workspaceId, accountId) in accounts) await admin.RequestSyncAsync(workspaceId, accountId, ct);
        return InvocationResult.Done($"Queued {accounts.Count} rich menu syncs").ToHttpResult();
    }

    /// <summary>How long a sync request that found another sync of the account running waits before it asks again.</summary>
    public static readonly TimeSpan RichMenuSyncBusyDelay = TimeSpan.FromSeconds(5);

    public static async Task<IResult> SyncRichMenus(InvocationEnvelope invocation, RichMenuSync sync, LumoQueues queues, CancellationToken ct)
    {
        var request = invocation.GetData<RichMenuSyncRequest>("request");
        var run = await sync.RunAsync(request, ct);
        if (run is null)
        {
            // The running sync may have read the segments before the change this request stands for: ask again after it.
            await queues.EnqueueAsync(QueueNames.RichMenuSyncs, request, ct, RichMenuSyncBusyDelay);
            return InvocationResult.Done($"Rich menus of account {request.AccountId}: a sync is running; asking again in {RichMenuSyncBusyDelay.TotalSeconds:N0} s").ToHttpResult();
        }
        return InvocationResult.Done($"Rich menus of account {request.AccountId}: {run.Linked} linked, {run.Unlinked} unlinked, {run.Unchanged} unchanged{(run.Error is null ? "" : "; " + run.Error)}").ToHttpResult();
    }

    /// <summary>
    /// A sending broadcast with no chunk attempted or sent, and not dispatched, for this long is dispatched again (its
    /// chunk messages may have been parked or lost): longer than a chunk's whole retry cycle.
    /// </summary>
    public static readonly TimeSpan StalledAfter = TimeSpan.FromMinutes(10);

    public static async Task<IResult> StartDue(InvocationEnvelope invocation, BroadcastStore store, LumoQueues queues, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var queued = 0;
        foreach (var b in await store.ListDueAsync(now, now - 2 * BroadcastRunner.PreparationLease, ct))
        {
            if (b.Status == BroadcastStatus.Sending && new[] { (await store.GetProgressAsync(b, ct)).LastActivityAt, b.DispatchedAt, b.StartedAt }.Max() > now - StalledAfter)
                continue;
            await queues.EnqueueAsync(QueueNames.Broadcasts, new BroadcastRequest(b.WorkspaceId, b.AccountId, b.Id), ct);
            queued++;
        }
        return InvocationResult.Done($"Queued {queued} broadcasts").ToHttpResult();
    }

    public static async Task<IResult> Run(InvocationEnvelope invocation, BroadcastRunner runner, CancellationToken ct)
    {
        var request = invocation.GetData<BroadcastRequest>("request");
        var broadcast = await runner.RunAsync(request, ct);
        return InvocationResult.Done($"Broadcast {request.BroadcastId}: {broadcast?.Status.ToString() ?? "gone"}").ToHttpResult();
    }

    public static async Task<IResult> SendChunk(InvocationEnvelope invocation, BroadcastChunkSender sender, CancellationToken ct)
    {
        var request = invocation.GetData<BroadcastChunkRequest>("request");
        return InvocationResult.Done($"Broadcast {request.BroadcastId}: {await sender.SendAsync(request, ct)}").ToHttpResult();
    }

    public static async Task<IResult> Count(InvocationEnvelope invocation, SegmentAdministration admin, CancellationToken ct)
    {
        var request = invocation.GetData<SegmentCountRequest>("request");
        var evaluation = await admin.CountAsync(request, ct);
        return InvocationResult.Done(evaluation is null ? $"Segment {request.SegmentId} is gone"
            : $"Segment {request.SegmentId}: {evaluation.Members} members ({evaluation.Reachable} reachable) of {evaluation.FriendsScanned} friends{(evaluation.Error is null ? "" : ": " + evaluation.Error)}").ToHttpResult();
    }
}
