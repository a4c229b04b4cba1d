using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.IdLinkage;

/// <summary>What one existing-ID import run did (the sync history an administrator reads).</summary>
public sealed record LinkImportRun
{
    public required string Id { get; init; }
    public required string WorkspaceId { get; init; }
    public required string AccountId { get; init; }
    public required string SegmentId { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>running, completed, or stopped (the source segment is gone or the import was switched off).</summary>
    public string Status { get; init; } = "running";
    public int Profiles { get; init; }
    public int Linked { get; init; }
    public int AlreadyLinked { get; init; }
    public int NotFriends { get; init; }
    public int WithoutUserId { get; init; }
    public int Conflicts { get; init; }
    public string? Problem { get; init; }
}

public sealed class LinkImportHistory(LumoTables tables)
{

    /// <summary>Run ids sort newest first: inverted ticks of the start.</summary>
    public static string NewRunId(DateTimeOffset startedAt) => (DateTimeOffset.MaxValue.Ticks - startedAt.UtcTicks).ToString("D19");

    public async Task SaveAsync(LinkImportRun run, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LinkImportRuns, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(AccountPartition.Of(run.WorkspaceId, run.AccountId), run.Id)
        {
            ["SegmentId"] = run.SegmentId, ["StartedAt"] = run.StartedAt, ["FinishedAt"] = run.FinishedAt, ["Status"] = run.Status,
            ["Profiles"] = run.Profiles, ["Linked"] = run.Linked, ["AlreadyLinked"] = run.AlreadyLinked, ["NotFriends"] = run.NotFriends,
            ["WithoutUserId"] = run.WithoutUserId, ["Conflicts"] = run.Conflicts, ["Problem"] = run.Problem,
        }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<LinkImportRun?> GetIfExistsAsync(string workspaceId, string accountId, string runId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LinkImportRuns, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(AccountPartition.Of(workspaceId, accountId), runId, cancellationToken: cancellationToken);
        return row.HasValue ? FromRow(row.Value!) : null;
    }

    /// <summary>The newest runs first.</summary>
    public async Task<List<LinkImportRun>> ListAsync(string workspaceId, string accountId, int max, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LinkImportRuns, cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        var result = new List<LinkImportRun>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == partition && e.RowKey.CompareTo(LinkingTokenPasses.RowKey) < 0,
                           maxPerPage: max, cancellationToken: cancellationToken))
        {
            result.Add(FromRow(row));
            if (result.Count >= max) break;
        }
        return result;
    }

    private static LinkImportRun FromRow(TableEntity row)
    {
        var (workspaceId, accountId) = AccountPartition.Parse(row.PartitionKey);
        return new LinkImportRun
        {
            Id = row.RowKey, WorkspaceId = workspaceId, AccountId = accountId, SegmentId = row.GetString("SegmentId") ?? "",
            StartedAt = row.GetDateTimeOffset("StartedAt") ?? DateTimeOffset.MinValue, FinishedAt = row.GetDateTimeOffset("FinishedAt"),
            Status = row.GetString("Status") ?? "running", Profiles = row.GetInt32("Profiles") ?? 0, Linked = row.GetInt32("Linked") ?? 0,
            AlreadyLinked = row.GetInt32("AlreadyLinked") ?? 0, NotFriends = row.GetInt32("NotFriends") ?? 0,
            WithoutUserId = row.GetInt32("WithoutUserId") ?? 0, Conflicts = row.GetInt32("Conflicts") ?? 0, Problem = row.GetString("Problem"),
        };
    }
}
