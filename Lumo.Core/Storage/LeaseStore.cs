using Azure;
using Azure.Data.Tables;

namespace Lumo.Core.Storage;

/// <summary>
/// Short exclusive leases in a table (optimistic concurrency on the row's ETag), so that across instances only
/// one worker does a given job at a time — e.g. exporting one workspace's events within its rate limit.
/// </summary>
public sealed class LeaseStore(LumoTables tables, TimeProvider clock)
{
    /// <summary>
    /// Takes the lease and keeps renewing it (every third of <paramref name="duration"/>) until disposed, when it is
    /// released. Short leases renewed this way let a crashed holder's work be taken over within one duration, while a
    /// live holder keeps it through long waits. <see cref="HeldLease.Lost"/> is cancelled if a renewal finds the lease
    /// taken: the holder must stop. Null when someone else holds it.
    /// </summary>
    public async Task<HeldLease?> HoldAsync(string scope, string key, string owner, TimeSpan duration, CancellationToken cancellationToken,
        string? takingOverFrom = null)
    {
        if (!await TryAcquireAsync(scope, key, owner, duration, cancellationToken, takingOverFrom)) return null;
        return new HeldLease(this, scope, key, owner, duration, clock);
    }

    /// <summary>
    /// Takes (or renews) the lease when it is free, expired, already ours, or held by <paramref name="takingOverFrom"/>:
    /// a run that hands its work to a successor names itself there, so the successor never finds the lease still
    /// held by the run that queued it.
    /// </summary>
    public async Task<bool> TryAcquireAsync(string scope, string key, string owner, TimeSpan duration, CancellationToken cancellationToken,
        string? takingOverFrom = null)
    {
        var table = await tables.GetAsync(TableNames.Leases, cancellationToken);
        var now = clock.GetUtcNow();
        var current = await table.GetEntityIfExistsAsync<TableEntity>(scope, key, cancellationToken: cancellationToken);
        var lease = new TableEntity(scope, key) { ["Owner"] = owner, ["ExpiresAt"] = now + duration };
        try
        {
            if (!current.HasValue)
                await table.AddEntityAsync(lease, cancellationToken);
            else if (current.Value!.GetString("Owner") is { } holder && (holder == owner || holder == takingOverFrom)
                     || current.Value.GetDateTimeOffset("ExpiresAt") <= now)
                await table.UpdateEntityAsync(lease, current.Value.ETag, TableUpdateMode.Replace, cancellationToken);
            else
                return false;
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false; // someone else took it at the same moment
        }
    }

    public async Task ReleaseAsync(string scope, string key, string owner, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Leases, cancellationToken);
        var current = await table.GetEntityIfExistsAsync<TableEntity>(scope, key, cancellationToken: cancellationToken);
        if (current.HasValue && current.Value!.GetString("Owner") == owner)
        {
            try { await table.DeleteEntityAsync(scope, key, current.Value.ETag, cancellationToken); }
            catch (RequestFailedException e) when (e.Status is 404 or 412) { }
        }
    }
}

/// <summary>A lease being renewed in the background; dispose to stop renewing and release it.</summary>
public sealed class HeldLease : IAsyncDisposable
{
    private readonly LeaseStore _store;
    private readonly string _scope, _key, _owner;
    private readonly CancellationTokenSource _lost = new(), _stop = new();
    private readonly Task _renewing;

    internal HeldLease(LeaseStore store, string scope, string key, string owner, TimeSpan duration, TimeProvider clock)
    {
        (_store, _scope, _key, _owner) = (store, scope, key, owner);
        _renewing = RenewAsync(duration, clock);
    }

    /// <summary>Cancelled when the lease was lost (taken over after a renewal could not reach storage in time).</summary>
    public CancellationToken Lost => _lost.Token;

    private async Task RenewAsync(TimeSpan duration, TimeProvider clock)
    {
        var lastRenewed = clock.GetUtcNow();
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(duration / 3, clock, _stop.Token);
                if (await _store.TryAcquireAsync(_scope, _key, _owner, duration, _stop.Token)) lastRenewed = clock.GetUtcNow();
                else break; // someone else holds it now
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (clock.GetUtcNow() - lastRenewed < duration)
            {
                // Storage hiccup: the lease is still ours until it expires; try again at the next tick.
                continue;
            }
            catch (Exception)
            {
                break;
            }
        }
        if (!_stop.IsCancellationRequested) _lost.Cancel();
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _renewing;
        await _store.ReleaseAsync(_scope, _key, _owner, CancellationToken.None);
        _lost.Dispose();
        _stop.Dispose();
    }
}
