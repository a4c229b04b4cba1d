using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Workspaces;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.KlaviyoEvents;

/// <summary>
/// Queue function ExportKlaviyoEvents drains one workspace's outbox into Klaviyo; timer KlaviyoEventSweep (every
/// minute) requests an export for every workspace with pending events, so nothing waits on a lost request.
/// </summary>
public static class KlaviyoEventFunctions
{
    public static IEndpointRouteBuilder MapKlaviyoEventFunctions(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction("ExportKlaviyoEvents", Export);
        routes.MapTriggerFunction("KlaviyoEventSweep", Sweep);
        return routes;
    }

    public static async Task<IResult> Export(InvocationEnvelope invocation, KlaviyoEventExporter exporter, KlaviyoEventRecorder recorder, CancellationToken ct)
    {
        var request = invocation.GetData<ExportKlaviyoEventsRequest>("request");
        var result = await exporter.ExportAsync(request.WorkspaceId, ct);
        if (result.LeaseHeldElsewhere) await recorder.RequestExportLaterAsync(request.WorkspaceId, ct);
        return InvocationResult.Done(result.LeaseHeldElsewhere
            ? $"Another export of workspace {request.WorkspaceId} is running"
            : $"Sent {result.Sent} events, parked {result.Parked}{(result.MoreRemain ? ", more remain" : "")}").ToHttpResult();
    }

    public static async Task<IResult> Sweep(InvocationEnvelope invocation, WorkspaceStore workspaces, KlaviyoEventOutbox outbox, KlaviyoEventRecorder recorder, CancellationToken ct)
    {
        var requested = 0;
        foreach (var workspace in await workspaces.ListWorkspacesAsync(ct))
        {
            if (!await outbox.HasPendingAsync(workspace.Id, ct)) continue;
            await recorder.RequestExportAsync(workspace.Id, ct);
            requested++;
        }
        return InvocationResult.Done($"Requested exports for {requested} workspaces").ToHttpResult();
    }
}
