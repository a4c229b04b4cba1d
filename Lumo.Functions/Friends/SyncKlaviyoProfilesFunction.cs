using Lumo.Core.Friends;
using Lumo.Core.Storage;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.Friends;

/// <summary>Queue function SyncKlaviyoProfiles: starts bulk property syncs and follows their import jobs.</summary>
public static class SyncKlaviyoProfilesFunction
{
    public static IEndpointRouteBuilder MapSyncKlaviyoProfilesFunction(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction("SyncKlaviyoProfiles", Handle);
        return routes;
    }

    public static async Task<IResult> Handle(InvocationEnvelope invocation, FriendBulkSync sync, LumoQueues queues, CancellationToken ct)
    {
        var request = invocation.GetData<ProfileSyncRequest>("request");
        if (request.JobId is null)
            return InvocationResult.Done($"Started {await sync.StartAsync(request.WorkspaceId, request.AccountId, ct)} import jobs").ToHttpResult();
        if (await sync.CheckAsync(request, ct))
            return InvocationResult.Done($"Import job {request.JobId} finished").ToHttpResult();
        // Not done yet: look again later with a fresh message rather than failing this one.
        await queues.EnqueueAsync(QueueNames.KlaviyoProfileSync, request, ct, FriendBulkSync.CheckInterval);
        return InvocationResult.Done($"Import job {request.JobId} still running").ToHttpResult();
    }
}
