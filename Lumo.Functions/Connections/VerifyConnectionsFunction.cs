using Lumo.Core.Connections;
using Lumo.Core.Http;
using Lumo.Core.Storage;
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

    /// <summary>How long to wait before checking again when a vendor did not answer.</summary>
    public static readonly TimeSpan RetryAfterOutage = TimeSpan.FromMinutes(1);

    public static async Task<IResult> Handle(InvocationEnvelope invocation, ConnectionVerifier verifier, LumoQueues queues, CancellationToken ct)
    {
        var request = invocation.GetData<VerifyConnectionsRequest>("request");
        try
        {
            await verifier.VerifyAsync(request, ct);
        }
        catch (VendorApiException e) when (e.IsTransient)
        {
            // An outage says nothing about the credentials: check again later instead of parking the check after a
            // few quick tries (an outage of minutes would otherwise leave the connection unverified for good).
            await queues.EnqueueAsync(QueueNames.VerifyConnections, request, ct, RetryAfterOutage);
            return InvocationResult.Done($"Vendor did not answer ({e.Status}); checking workspace {request.WorkspaceId} again in {RetryAfterOutage}").ToHttpResult();
        }
        return InvocationResult.Done($"Verified connections of workspace {request.WorkspaceId}").ToHttpResult();
    }
}
