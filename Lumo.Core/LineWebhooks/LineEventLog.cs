using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.LineWebhooks;

/// <summary>
/// Which LINE events (by webhookEventId) have been applied, per account, so that redeliveries and queue retries
/// change nothing. An event is marked only after everything it causes has been done.
/// </summary>
public sealed class LineEventLog(LumoTables tables)
{
    public async Task<bool> WasAppliedAsync(string workspaceId, string accountId, string webhookEventId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineEventLog, cancellationToken);
        return (await table.GetEntityIfExistsAsync<TableEntity>(AccountPartition.Of(workspaceId, accountId), webhookEventId, select: ["PartitionKey"], cancellationToken: cancellationToken)).HasValue;
    }

    public async Task MarkAppliedAsync(string workspaceId, string accountId, LineWebhookEvent e, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LineEventLog, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(AccountPartition.Of(workspaceId, accountId), e.WebhookEventId)
        {
            ["Type"] = e.Type,
            ["EventAt"] = e.Timestamp,
            ["AppliedAt"] = at,
        }, TableUpdateMode.Replace, cancellationToken);
    }
}
