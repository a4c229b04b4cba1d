using Lumo.Core.FlowSends;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.FlowSends;

/// <summary>Timer function SweepPendingSends (every minute): sends a dead process left recorded but unpushed go to the queue (<see cref="PendingSendSweep"/>).</summary>
public static class PendingSendSweepFunction
{
    public static IEndpointRouteBuilder MapPendingSendSweepFunction(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction("SweepPendingSends", Handle);
        return routes;
    }

    public static async Task<IResult> Handle(InvocationEnvelope invocation, PendingSendSweep sweep, CancellationToken ct) =>
        InvocationResult.Done($"Handed {await sweep.RunAsync(ct)} pending sends to the queue").ToHttpResult();
}
