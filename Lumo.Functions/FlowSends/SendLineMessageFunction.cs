using Lumo.Core.FlowSends;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.FlowSends;

/// <summary>Queue function SendLineMessage: pushes one recorded send to LINE.</summary>
public static class SendLineMessageFunction
{
    public static IEndpointRouteBuilder MapSendLineMessageFunction(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction("SendLineMessage", Handle);
        return routes;
    }

    public static async Task<IResult> Handle(InvocationEnvelope invocation, LineSender sender, CancellationToken ct)
    {
        var request = invocation.GetData<LineSendRequest>("request");
        var status = await sender.SendAsync(request, ct);
        return InvocationResult.Done($"Send {request.SendId}: {status?.ToString() ?? "unknown"}").ToHttpResult();
    }
}
