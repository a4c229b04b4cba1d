using Lumo.Core.Klaviyo;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Connections;

/// <summary>
/// Whether a workspace's Klaviyo work may run. An authentication failure (401/403) anywhere — event export,
/// property writes, the existing-ID import, linking look-ups — marks the connection <c>needs-reconnect</c> with when
/// and what failed, instead of treating the work as refused: nothing is parked, the work waits, and
/// <see cref="ConnectionVerifier"/> resumes it once the key is replaced or verified again.
/// </summary>
public sealed class KlaviyoConnectionHealth(WorkspaceStore workspaces, IMemoryCache cache, TimeProvider clock, ILogger<KlaviyoConnectionHealth> logger)
{
    // Hot paths (every property write) ask this; a few seconds of staleness only delays a pause or a resume.
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);

    public async Task<bool> IsPausedAsync(string workspaceId, CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(Key(workspaceId), out bool paused)) return paused;
        paused = (await workspaces.GetWorkspaceIfExistsAsync(workspaceId, cancellationToken))?.Klaviyo.Status == ConnectionStatus.NeedsReconnect;
        cache.Set(Key(workspaceId), paused, CacheLifetime);
        return paused;
    }

    /// <summary>Marks the connection <c>needs-reconnect</c> when <paramref name="error"/> says Klaviyo refused the credentials.</summary>
    public async Task PauseIfRefusedAsync(string workspaceId, string operation, KlaviyoApiException error, CancellationToken cancellationToken)
    {
        if (!error.IsAuthenticationFailure) return;
        logger.LogWarning("Klaviyo refused the credentials of workspace {WorkspaceId} during {Operation} ({Status} {Code}): its Klaviyo work is paused until reconnected",
            workspaceId, operation, error.Status, error.Code);
        var state = new ConnectionState(ConnectionStatus.NeedsReconnect, clock.GetUtcNow(), $"{operation}: Klaviyo answered {error.Status} {error.Code}: {error.Message}");
        try
        {
            await workspaces.RecordKlaviyoConnectionAsync(workspaceId, state, null, cancellationToken);
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            // The workspace was deleted meanwhile: nothing to pause.
        }
        cache.Set(Key(workspaceId), true, CacheLifetime);
    }

    internal void Forget(string workspaceId) => cache.Remove(Key(workspaceId));

    private static string Key(string workspaceId) => "klaviyo-paused:" + workspaceId;
}
