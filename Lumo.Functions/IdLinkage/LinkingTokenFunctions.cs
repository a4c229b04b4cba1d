using Lumo.Core.IdLinkage;
using Lumo.Core.Storage;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.IdLinkage;

/// <summary>
/// Timer IssueLinkingTokensSchedule (every 15 minutes) queues a linking-token pass for every account with a
/// linking-token segment; queue function IssueLinkingTokens runs one (or goes on with one that handed over).
/// </summary>
public static class LinkingTokenFunctions
{
    public static IEndpointRouteBuilder MapLinkingTokenFunctions(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction("IssueLinkingTokensSchedule", Schedule);
        routes.MapTriggerFunction("IssueLinkingTokens", Issue);
        return routes;
    }

    public static async Task<IResult> Schedule(InvocationEnvelope invocation, IdLinkageSettingsStore settings, LumoQueues queues, TimeProvider clock, CancellationToken ct)
    {
        var accounts = await settings.ListAsync(s => s.LinkingTokenSegmentId is not null, ct);
        foreach (var s in accounts)
            await queues.EnqueueAsync(QueueNames.LinkingTokens, new LinkingTokenRequest(s.WorkspaceId, s.AccountId, clock.GetUtcNow()), ct);
        return InvocationResult.Done($"Queued {accounts.Count} linking-token passes").ToHttpResult();
    }

    public static async Task<IResult> Issue(InvocationEnvelope invocation, LinkingTokenIssuer issuer, CancellationToken ct)
    {
        var request = invocation.GetData<LinkingTokenRequest>("request");
        var pass = await issuer.RunAsync(request, ct);
        return InvocationResult.Done(pass is null
            ? $"No linking-token pass for account {request.AccountId} (no segment set, or one is already running)"
            : $"Linking tokens: {pass.Status}, {pass.Profiles} profiles, {pass.Written} written").ToHttpResult();
    }
}
