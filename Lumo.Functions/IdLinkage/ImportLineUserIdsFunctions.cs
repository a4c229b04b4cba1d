using Lumo.Core.IdLinkage;
using Lumo.Core.Storage;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.IdLinkage;

/// <summary>
/// Timer ImportLineUserIdsSchedule (every 15 minutes) queues an existing-ID import for every account that has a
/// source segment; queue function ImportLineUserIds runs one (or goes on with one that handed over).
/// </summary>
public static class ImportLineUserIdsFunctions
{
    public static IEndpointRouteBuilder MapImportLineUserIdsFunctions(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction("ImportLineUserIdsSchedule", Schedule);
        routes.MapTriggerFunction("ImportLineUserIds", Import);
        return routes;
    }

    public static async Task<IResult> Schedule(InvocationEnvelope invocation, IdLinkageSettingsStore settings, LumoQueues queues, CancellationToken ct)
    {
        var imports = await settings.ListAsync(s => s.ImportConfigured, ct);
        foreach (var s in imports)
            await queues.EnqueueAsync(QueueNames.LineUserIdImports, new LineUserIdImportRequest(s.WorkspaceId, s.AccountId), ct);
        return InvocationResult.Done($"Queued {imports.Count} existing-ID imports").ToHttpResult();
    }

    public static async Task<IResult> Import(InvocationEnvelope invocation, LineUserIdImport import, CancellationToken ct)
    {
        var request = invocation.GetData<LineUserIdImportRequest>("request");
        var run = await import.RunAsync(request, ct);
        return InvocationResult.Done(run is null
            ? $"No import for account {request.AccountId} (not configured, or one is already running)"
            : $"Import {run.Id}: {run.Status}, {run.Profiles} profiles, {run.Linked} linked").ToHttpResult();
    }
}
