using Azure;
using Azure.Data.Tables;

namespace Lumo.Core.Storage;

/// <summary>Deleting every row a filter matches, whatever the table's size: a page of keys at a time, in entity-group transactions.</summary>
internal static class TableDeletes
{
    private const int PageSize = 100;

    /// <summary>
    /// Deletes the matching rows until none are left (Finished) or <paramref name="mayGoOn"/> says stop; returns how
    /// many. Memory holds one page of keys.
    /// </summary>
    public static async Task<(int Deleted, bool Finished)> DeleteMatchingAsync(TableClient table, string filter, Func<bool> mayGoOn, CancellationToken cancellationToken)
    {
        var deleted = 0;
        while (mayGoOn())
        {
            // Always the first page: the previous page's rows are gone by now.
            var page = await table.QueryAsync<TableEntity>(filter, maxPerPage: PageSize, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken)
                .AsPages(null, PageSize).FirstOrDefaultAsync(cancellationToken);
            if (page is null || page.Values.Count == 0) return (deleted, true);
            foreach (var partition in page.Values.GroupBy(e => e.PartitionKey))
            {
                try
                {
                    await table.SubmitTransactionAsync(partition.Select(e => new TableTransactionAction(TableTransactionActionType.Delete, e, ETag.All)), cancellationToken);
                }
                catch (TableTransactionFailedException e) when (e.Status == 404)
                {
                    // A row went meanwhile (a session taken by its callback): the next page shows what is left.
                }
                deleted += partition.Count();
            }
        }
        return (deleted, false);
    }
}
