using Azure.Data.Tables;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.Operations;

/// <summary>
/// Timer function Heartbeat (every 5 minutes): records that timers run and counts parked (poison) messages, so the
/// health endpoint can tell an operator both "triggers are alive" and "work is waiting for you", and counts Klaviyo
/// connections that need reconnecting (their work is paused).
/// </summary>
public static class HeartbeatFunction
{
    public const string Name = "Heartbeat";

    public sealed record TimerInfo(bool IsPastDue);

    public static IEndpointRouteBuilder MapHeartbeatFunction(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction(Name, Handle);
        return routes;
    }

    public static async Task<IResult> Handle(InvocationEnvelope invocation, FunctionManifest manifest, LumoQueues queues, LumoTables tables, WorkspaceStore workspaces,
        TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        var timer = invocation.GetData<TimerInfo>("timer");
        var logger = loggers.CreateLogger("Lumo.Operations");
        var parked = (await ParkedWork.CountAsync(manifest, queues, ct)).Sum(c => c.Count);
        if (parked > 0)
            logger.LogWarning("{ParkedCount} messages are parked in poison queues; see /api/manage/parked", parked);
        var needsReconnect = (await workspaces.ListWorkspacesAsync(ct)).Count(w => w.Klaviyo.Status == ConnectionStatus.NeedsReconnect);
        if (needsReconnect > 0)
            logger.LogWarning("{Count} workspaces' Klaviyo connections need reconnecting; their Klaviyo work is paused", needsReconnect);

        var status = await tables.GetAsync(TableNames.OperationsStatus, ct);
        await status.UpsertEntityAsync(new TableEntity(OperationsStatus.Partition, OperationsStatus.HeartbeatRow)
        {
            ["LastRunAt"] = clock.GetUtcNow(),
            ["WasPastDue"] = timer.IsPastDue,
            ["ParkedCount"] = parked,
            ["KlaviyoNeedsReconnect"] = needsReconnect,
        }, TableUpdateMode.Replace, ct);
        return InvocationResult.Done($"Heartbeat recorded; {parked} parked messages").ToHttpResult();
    }
}
