using Lumo.Core.Storage;
using Lumo.Core.SyncData;
using Lumo.Core.Workspaces;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.SyncData;

/// <summary>
/// Timer PullKlaviyoProfilesSchedule (every 5 minutes) queues a Klaviyo → Lumo pull for every LINE account (a pull when its
/// sync rules pull fields, or an unfinished pull or resync); queue function PullKlaviyoProfiles runs one (or goes on with one that handed over).
/// </summary>
public static class PullKlaviyoProfilesFunctions
{
    public static IEndpointRouteBuilder MapPullKlaviyoProfilesFunctions(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction("PullKlaviyoProfilesSchedule", Schedule);
        routes.MapTriggerFunction("PullKlaviyoProfiles", Pull);
        return routes;
    }

    public static async Task<IResult> Schedule(InvocationEnvelope invocation, WorkspaceStore workspaces, LumoQueues queues, CancellationToken ct)
    {
        var queued = 0;
        foreach (var workspace in await workspaces.ListWorkspacesAsync(ct))
            // Every account: one that pulls no field may still have a resync to go on with (an account with nothing to do costs one history read).
            foreach (var account in await workspaces.ListAccountsAsync(workspace.Id, ct))
            {
                await queues.EnqueueAsync(QueueNames.KlaviyoPulls, new KlaviyoPullRequest(workspace.Id, account.Id), ct);
                queued++;
            }
        return InvocationResult.Done($"Queued {queued} Klaviyo pull checks").ToHttpResult();
    }

    public static async Task<IResult> Pull(InvocationEnvelope invocation, KlaviyoProfilePull pull, CancellationToken ct)
    {
        var request = invocation.GetData<KlaviyoPullRequest>("request");
        var run = await pull.RunAsync(request, ct);
        return InvocationResult.Done(run is null
            ? $"No pull for account {request.AccountId} (no fields chosen, Klaviyo paused, or a pull already at work)"
            : $"Pull {run.Id}: {run.Status}, {run.Profiles} changed profiles, {run.Failures} failures").ToHttpResult();
    }
}
