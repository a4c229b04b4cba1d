using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.FlowSends;

/// <summary>
/// Finds sends that were recorded but neither pushed nor handed to the queue (the process died in between: the
/// pending mark is still there after <see cref="StaleAfter"/>, far longer than a push may take) and hands them to the
/// queue. If the push did reach LINE before the process died, the retry key makes LINE answer 409 and the send is
/// recorded as delivered, once.
/// </summary>
public sealed class PendingSendSweep(WorkspaceStore workspaces, LineSendStore sends, LineSender sender, TimeProvider clock, ILogger<PendingSendSweep> logger)
{
    /// <summary>A push gives up after 40 s (ResilienceDefaults); a mark older than this has no request left behind it.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(2);

    /// <summary>Hands every stale pending send to the queue; returns how many.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var before = clock.GetUtcNow() - StaleAfter;
        var handed = 0;
        foreach (var workspace in await workspaces.ListWorkspacesAsync(cancellationToken))
        {
            try
            {
                foreach (var sendId in await sends.ListPendingSinceAsync(workspace.Id, before, cancellationToken))
                {
                    var send = await sends.GetIfExistsAsync(workspace.Id, sendId, cancellationToken);
                    if (send is { Status: SendStatus.Queued })
                    {
                        await sender.HandToQueueAsync(send, TimeSpan.Zero, cancellationToken);
                        handed++;
                    }
                    else await sends.ClearPendingAsync(workspace.Id, sendId, cancellationToken); // finished; only the mark was left
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One workspace's trouble does not hold up the others; its marks wait for the next minute.
                logger.LogError(e, "Sweeping the pending sends of workspace {WorkspaceId} failed", workspace.Id);
            }
        }
        if (handed > 0) logger.LogWarning("Handed {Count} sends that were recorded but not pushed to the queue", handed);
        return handed;
    }
}
