using Lumo.Core.Broadcasts;
using Lumo.Core.Segments;
using Lumo.Core.Storage;
using Lumo.Functions.Admin;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.Broadcasts;

/// <summary>
/// Timer StartDueBroadcasts (every minute) queues scheduled broadcasts whose time has come (and preparations whose
/// preparer died); queue function RunBroadcast prepares and dispatches one; SendBroadcastChunk sends one chunk;
/// CountSegment evaluates a segment for its member count.
/// </summary>
public static class BroadcastFunctions
{
    public static IEndpointRouteBuilder MapBroadcasts(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction("StartDueBroadcasts", StartDue);
        routes.MapTriggerFunction("RunBroadcast", Run);
        routes.MapTriggerFunction("SendBroadcastChunk", SendChunk);
        routes.MapTriggerFunction("CountSegment", Count);
        return routes;
    }

    /// <summary>The admin endpoints of segments and broadcasts, under the manage API.</summary>
    public static RouteGroupBuilder MapBroadcastAdmin(this RouteGroupBuilder manage) => manage.MapSegmentEndpoints().MapBroadcastEndpoints();

    public static async Task<IResult> StartDue(InvocationEnvelope invocation, BroadcastStore store, LumoQueues queues, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var due = await store.ListDueAsync(now, now - 2 * BroadcastRunner.PreparationLease, ct);
        foreach (var b in due)
            await queues.EnqueueAsync(QueueNames.Broadcasts, new BroadcastRequest(b.WorkspaceId, b.AccountId, b.Id), ct);
        return InvocationResult.Done($"Queued {due.Count} broadcasts").ToHttpResult();
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
