using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Workspaces;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.KlaviyoEvents;

/// <summary>
/// Queue function ExportKlaviyoEvents drains one workspace's outbox into Klaviyo; timer KlaviyoEventSweep (every
/// minute) requests an export for every workspace with pending events, so nothing waits on a lost request, and
/// re-checks the Klaviyo key of workspaces whose connection needs reconnecting.
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
        return InvocationResult.Done(result switch
        {
            { LeaseHeldElsewhere: true } => $"Another export of workspace {request.WorkspaceId} is running",
            { Paused: true } => $"Klaviyo work of workspace {request.WorkspaceId} is paused until its connection is reconnected; sent {result.Sent}",
            _ => $"Sent {result.Sent} events, parked {result.Parked}{(result.MoreRemain ? ", more remain" : "")}",
        }).ToHttpResult();
    }

    public static async Task<IResult> Sweep(InvocationEnvelope invocation, WorkspaceStore workspaces, KlaviyoEventOutbox outbox, KlaviyoEventRecorder recorder,
        WorkspaceAdministration admin, CancellationToken ct)
    {
        var requested = 0;
        foreach (var workspace in await workspaces.ListWorkspacesAsync(ct))
        {
            if (workspace.Klaviyo.Status == ConnectionStatus.NeedsReconnect)
            {
                // Paused: ask Klaviyo again whether the key works (one cheap call a minute); a verified key resumes the work.
                await admin.RequestVerificationAsync(workspace.Id, null, ct);
                continue;
            }
            if (!await outbox.HasPendingAsync(workspace.Id, ct)) continue;
            await recorder.RequestExportAsync(workspace.Id, ct);
            requested++;
        }
        return InvocationResult.Done($"Requested exports for {requested} workspaces").ToHttpResult();
    }
}
