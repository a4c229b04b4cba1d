using Lumo.Core.Connections;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.Connections;

/// <summary>Queue function VerifyConnections: checks stored Klaviyo and LINE credentials against the vendors.</summary>
public static class VerifyConnectionsFunction
{
    public const string Name = "VerifyConnections";

    public static IEndpointRouteBuilder MapVerifyConnectionsFunction(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction(Name, Handle);
        return routes;
    }

    public static async Task<IResult> Handle(InvocationEnvelope invocation, ConnectionVerifier verifier, CancellationToken ct)
    {
        var request = invocation.GetData<VerifyConnectionsRequest>("request");
        await verifier.VerifyAsync(request, ct);
        return InvocationResult.Done($"Verified connections of workspace {request.WorkspaceId}").ToHttpResult();
    }
}
