using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.IdLinkage;

/// <summary>The latest linking-token pass of an account: what an administrator checks before sending signed linking URLs.</summary>
public sealed record LinkingTokenPass
{
    public required string Id { get; init; }
    public required string WorkspaceId { get; init; }
    public required string AccountId { get; init; }
    public required string SegmentId { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>running, completed, paused (Klaviyo refused the key) or stopped (the segment is gone).</summary>
    public string Status { get; init; } = "running";
    public int Profiles { get; init; }
    /// <summary>Profiles that were given their token in this pass (the others already held it).</summary>
    public int Written { get; init; }
    public string? Problem { get; init; }
}

/// <summary>
/// One row per account beside the import runs (same partition, so account erasure and the sync-history retention
/// cover it); its row key sorts after every run id, so the run history never lists it.
/// </summary>
public sealed class LinkingTokenPasses(LumoTables tables)
{
    public const string RowKey = "~linking-tokens";

    public async Task SaveAsync(LinkingTokenPass pass, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LinkImportRuns, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(AccountPartition.Of(pass.WorkspaceId, pass.AccountId), RowKey)
        {
            ["PassId"] = pass.Id, ["SegmentId"] = pass.SegmentId, ["StartedAt"] = pass.StartedAt, ["FinishedAt"] = pass.FinishedAt, ["Status"] = pass.Status,
            ["Profiles"] = pass.Profiles, ["Written"] = pass.Written, ["Problem"] = pass.Problem,
        }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<LinkingTokenPass?> GetIfExistsAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LinkImportRuns, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(AccountPartition.Of(workspaceId, accountId), RowKey, cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        var r = row.Value!;
        return new LinkingTokenPass
        {
            Id = r.GetString("PassId") ?? "", WorkspaceId = workspaceId, AccountId = accountId, SegmentId = r.GetString("SegmentId") ?? "", StartedAt = r.GetDateTimeOffset("StartedAt") ?? DateTimeOffset.MinValue,
            FinishedAt = r.GetDateTimeOffset("FinishedAt"), Status = r.GetString("Status") ?? "running", Profiles = r.GetInt32("Profiles") ?? 0,
            Written = r.GetInt32("Written") ?? 0, Problem = r.GetString("Problem"),
        };
    }
}
