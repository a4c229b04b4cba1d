using Lumo.Core.Retention;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.Retention;

/// <summary>Timer function RetentionSweep (daily, 03:30 UTC): deletes what is past its retention (<see cref="RetentionSweep"/>).</summary>
public static class RetentionSweepFunction
{
    public static IEndpointRouteBuilder MapRetentionSweepFunction(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction("RetentionSweep", Handle);
        return routes;
    }

    public static async Task<IResult> Handle(InvocationEnvelope invocation, RetentionSweep sweep, CancellationToken ct)
    {
        var result = await sweep.RunAsync(ct);
        return InvocationResult.Done($"Deleted {string.Join(", ", result.Deleted.Where(d => d.Value > 0).Select(d => $"{d.Value} from {d.Key}"))}" +
                                     (result.Finished ? "" : "; more remain for the next run")).ToHttpResult();
    }
}
