using Azure;
using Azure.Data.Tables;

namespace Lumo.Core.Storage;

/// <summary>
/// Short exclusive leases in a table (optimistic concurrency on the row's ETag), so that across instances only
/// one worker does a given job at a time — e.g. exporting one workspace's events within its rate limit.
/// </summary>
public sealed class LeaseStore(LumoTables tables, TimeProvider clock)
{
    public async Task<bool> TryAcquireAsync(string scope, string key, string owner, TimeSpan duration, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Leases, cancellationToken);
        var now = clock.GetUtcNow();
        var current = await table.GetEntityIfExistsAsync<TableEntity>(scope, key, cancellationToken: cancellationToken);
        var lease = new TableEntity(scope, key) { ["Owner"] = owner, ["ExpiresAt"] = now + duration };
        try
        {
            if (!current.HasValue)
                await table.AddEntityAsync(lease, cancellationToken);
            else if (current.Value!.GetString("Owner") == owner || current.Value.GetDateTimeOffset("ExpiresAt") <= now)
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
