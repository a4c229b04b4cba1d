using Azure.Data.Tables;
using Lumo.Core.Storage;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.Operations;

/// <summary>
/// Timer function Heartbeat (every 5 minutes): records that timers run and counts parked (poison) messages, so the
/// health endpoint can tell an operator both "triggers are alive" and "work is waiting for you".
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

    public static async Task<IResult> Handle(InvocationEnvelope invocation, FunctionManifest manifest, LumoQueues queues, LumoTables tables,
        TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        var timer = invocation.GetData<TimerInfo>("timer");
        var parked = (await ParkedWork.CountAsync(manifest, queues, ct)).Sum(c => c.Count);
        if (parked > 0)
            loggers.CreateLogger("Lumo.Operations").LogWarning("{ParkedCount} messages are parked in poison queues; see /api/manage/parked", parked);

        var status = await tables.GetAsync(TableNames.OperationsStatus, ct);
        await status.UpsertEntityAsync(new TableEntity(OperationsStatus.Partition, OperationsStatus.HeartbeatRow)
        {
            ["LastRunAt"] = clock.GetUtcNow(),
            ["WasPastDue"] = timer.IsPastDue,
            ["ParkedCount"] = parked,
        }, TableUpdateMode.Replace, ct);
        return InvocationResult.Done($"Heartbeat recorded; {parked} parked messages").ToHttpResult();
    }
}
