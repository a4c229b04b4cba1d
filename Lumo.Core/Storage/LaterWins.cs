using Azure;
using Azure.Data.Tables;

namespace Lumo.Core.Storage;

/// <summary>
/// Writes a row unless the stored one carries a later time in a given column: two writers that read at different
/// times may cross, and the earlier read must not win whichever writes last. It compares and writes under the row's
/// ETag, and when another writer got in between, compares again with what that one wrote.
/// </summary>
public static class LaterWins
{
    /// <summary>Writes <paramref name="row"/> (whose <paramref name="timeColumn"/> is <paramref name="at"/>) unless the stored row's is later; returns whether it wrote.</summary>
    public static async Task<bool> WriteAsync(TableClient table, TableEntity row, string timeColumn, DateTimeOffset at, CancellationToken cancellationToken)
    {
        while (true)
        {
            var stored = await table.GetEntityIfExistsAsync<TableEntity>(row.PartitionKey, row.RowKey, [timeColumn], cancellationToken);
            try
            {
                if (!stored.HasValue) await table.AddEntityAsync(row, cancellationToken);
                else if (stored.Value!.GetDateTimeOffset(timeColumn) is { } storedAt && storedAt > at) return false;
                else await table.UpdateEntityAsync(row, stored.Value.ETag, TableUpdateMode.Replace, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412) { } // written meanwhile: compare with that
        }
    }
}
