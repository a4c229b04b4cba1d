using Lumo.Core.SyncData;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.SyncData;

/// <summary>Queue function RefreshConsent: works on a consent refresh until it finishes or hands over.</summary>
public static class RefreshConsentFunction
{
    public static IEndpointRouteBuilder MapRefreshConsentFunction(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction("RefreshConsent", Handle);
        return routes;
    }

    public static async Task<IResult> Handle(InvocationEnvelope invocation, ConsentRefresh refresh, CancellationToken ct)
    {
        var request = invocation.GetData<ConsentRefreshRequest>("request");
        var run = await refresh.RunAsync(request, ct);
        return InvocationResult.Done(run is null
            ? $"No consent refresh {request.RunId} for account {request.AccountId}"
            : $"Consent refresh {run.Id}: {run.Status}, {run.Profiles} friends checked, {run.Failures} failures").ToHttpResult();
    }
}
