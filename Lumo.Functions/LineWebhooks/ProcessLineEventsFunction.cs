using Lumo.Core.LineWebhooks;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.LineWebhooks;

/// <summary>Queue function ProcessLineEvents: applies queued LINE events to friends, Klaviyo properties and events.</summary>
public static class ProcessLineEventsFunction
{
    public const string Name = "ProcessLineEvents";

    public static IEndpointRouteBuilder MapProcessLineEventsFunction(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction(Name, Handle);
        return routes;
    }

    public static async Task<IResult> Handle(InvocationEnvelope invocation, LineEventProcessor processor, CancellationToken ct)
    {
        var batch = invocation.GetData<LineEventBatch>("batch");
        var applied = await processor.ApplyAsync(batch, ct);
        return InvocationResult.Done($"Applied {applied} of {batch.Events.Count} LINE events of account {batch.AccountId}").ToHttpResult();
    }
}
