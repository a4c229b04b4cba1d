using Azure.Data.Tables;
using Lumo.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Retention;

/// <summary>What one sweep deleted, per table.</summary>
public sealed record RetentionResult(IReadOnlyDictionary<string, int> Deleted, bool Finished);

/// <summary>
/// Deletes what is past its retention: link sessions and form-linkage arms once expired, sends and the LINE event log
/// after 90 days, sync history and parked events after 90 days (<see cref="RetentionOptions"/>). Each table is swept
/// by a server-side filter on the row's own time column, reading only keys, a page of 100 at a time, and deleting in
/// entity-group transactions, so memory stays flat whatever the table's size. A run stops after its budget; the next
/// one (daily timer) goes on.
/// </summary>
public sealed class RetentionSweep(LumoTables tables, IOptions<RetentionOptions> options, TimeProvider clock, ILogger<RetentionSweep> logger)
{
    public TimeSpan RunBudget { get; init; } = TimeSpan.FromMinutes(8);

    public async Task<RetentionResult> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var retention = options.Value;
        var deadline = now + RunBudget;
        var deleted = new Dictionary<string, int>();
        var finished = true;
        foreach (var (table, column, olderThan) in new[]
        {
            (TableNames.LinkSessions, "ExpiresAt", now),
            (TableNames.FormLinkArms, "ExpiresAt", now),
            (TableNames.LineSends, "UpdatedAt", now - retention.Sends),
            (TableNames.LineSends, "Since", now - retention.Sends), // content claims
            (TableNames.LineEventLog, "AppliedAt", now - retention.LineEventLog),
            (TableNames.LinkImportRuns, "StartedAt", now - retention.SyncHistory),
            (TableNames.KlaviyoImportJobs, "StartedAt", now - retention.SyncHistory),
            (TableNames.SyncRuns, "StartedAt", now - retention.SyncHistory),
            (TableNames.OAuthStates, "ExpiresAt", now), // consent URLs never used
            (TableNames.KlaviyoEventsParked, "ParkedAt", now - retention.ParkedEvents),
            (TableNames.Leases, "ExpiresAt", now - TimeSpan.FromDays(1)),
        })
        {
            var (count, done) = await SweepAsync(table, column, olderThan, deadline, cancellationToken);
            deleted[table] = deleted.GetValueOrDefault(table) + count;
            finished &= done;
        }
        logger.LogInformation("Retention sweep deleted {Deleted} (finished: {Finished})", string.Join(", ", deleted.Select(d => $"{d.Key} {d.Value}")), finished);
        return new RetentionResult(deleted, finished);
    }

    private async Task<(int Deleted, bool Finished)> SweepAsync(string tableName, string column, DateTimeOffset olderThan, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(tableName, cancellationToken);
        var filter = $"{column} lt {TableClient.CreateQueryFilter($"{olderThan}")}"; // column names are ours; the value is escaped
        return await TableDeletes.DeleteMatchingAsync(table, filter, () => clock.GetUtcNow() < deadline, cancellationToken);
    }
}
