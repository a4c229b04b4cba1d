using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.SyncData;

/// <summary>
/// The follower IDs LINE listed for an account (table <c>LineFollowers</c>, one row per user, RowKey = user ID), each
/// marked with the consent refresh that last saw it. A refresh compares this with the friends table in one ordered
/// pass over both, so memory stays flat however many followers there are. Rows from earlier refreshes are simply
/// overwritten or ignored (their run id differs), so nothing has to be deleted.
/// </summary>
public sealed class LineFollowerSnapshot(LumoTables tables)
{
    private const int RowsPerTransaction = 100; // Table storage's limit per entity group transaction

    /// <summary>Marks these users as seen by run <paramref name="runId"/>, in transactions of 100 rows.</summary>
    public async Task SaveAsync(string workspaceId, string accountId, string runId, IReadOnlyList<string> userIds, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineFollowers, cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        await Parallel.ForEachAsync(userIds.Distinct().Chunk(RowsPerTransaction), new ParallelOptions { MaxDegreeOfParallelism = 10, CancellationToken = cancellationToken },
            async (chunk, ct) => await table.SubmitTransactionAsync(chunk.Select(userId =>
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partition, userId) { ["RunId"] = runId })), ct));
    }

    /// <summary>The users run <paramref name="runId"/> saw, in user ID order, after <paramref name="afterUserId"/> when given.</summary>
    public async IAsyncEnumerable<string> ReadAsync(string workspaceId, string accountId, string runId, string? afterUserId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineFollowers, cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey gt {afterUserId ?? ""} and RunId eq {runId}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken))
            yield return row.RowKey;
    }
}
