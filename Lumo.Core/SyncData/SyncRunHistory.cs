using System.Text.Json;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.SyncData;

/// <summary>
/// One Sync Data run of a LINE account (a consent refresh; pulls and resyncs to come): what it did so far, counted by
/// outcome in <see cref="Counts"/>, and where a resumed run goes on (<see cref="Cursor"/>, the kind's own format).
/// </summary>
public sealed record SyncRun
{
    public required string Id { get; init; }
    public required string WorkspaceId { get; init; }
    public required string AccountId { get; init; }
    public required string Kind { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary><see cref="SyncRunStatus"/>.</summary>
    public string Status { get; init; } = SyncRunStatus.Queued;
    public int Profiles { get; init; }
    public int Failures { get; init; }
    public IReadOnlyDictionary<string, int> Counts { get; init; } = new Dictionary<string, int>();
    /// <summary>What failed, per profile or friend, at most <see cref="SyncRunHistory.MaxFailureDetails"/>.</summary>
    public IReadOnlyList<string> FailureDetails { get; init; } = [];
    /// <summary>Why the run stopped early, for an administrator.</summary>
    public string? Problem { get; init; }
    public string? Cursor { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }

    public bool IsFinished => Status is SyncRunStatus.Completed or SyncRunStatus.Failed or SyncRunStatus.Cancelled;

    /// <summary>The run with <paramref name="failure"/> counted, and kept (cut to 250 characters) among the details while there is room.</summary>
    public SyncRun WithFailure(string failure) => this with
    {
        Failures = Failures + 1,
        FailureDetails = FailureDetails.Count < SyncRunHistory.MaxFailureDetails ? [.. FailureDetails, failure.Length > 250 ? failure[..250] : failure] : FailureDetails,
    };

    public SyncRun WithCount(string outcome, int add) =>
        add == 0 ? this : this with { Counts = new Dictionary<string, int>(Counts) { [outcome] = Counts.GetValueOrDefault(outcome) + add } };
}

/// <summary>The kinds of sync in the dashboard's history.</summary>
public static class SyncKinds
{
    /// <summary>LINE properties written to linked profiles in bulk (Klaviyo profile import jobs).</summary>
    public const string PropertyWrites = "property-writes";
    /// <summary>The 15-minute existing-ID import of a LINE account.</summary>
    public const string ExistingIdImport = "existing-id-import";
    /// <summary>Update LINE Consent Status: follow status and consent re-read from LINE (<see cref="ConsentRefresh"/>).</summary>
    public const string ConsentRefresh = "consent-refresh";
    /// <summary>Klaviyo → Lumo: chosen fields of changed profiles pulled onto linked friends (<see cref="KlaviyoProfilePull"/>).</summary>
    public const string KlaviyoPull = "klaviyo-pull";
    /// <summary>Resync Data: every profile read again, links recreated by LINE User ID, every linked friend's properties written in bulk.</summary>
    public const string Resync = "resync";
}

public static class SyncRunStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    /// <summary>Stopped because Klaviyo refused the credentials; goes on from where it stopped once reconnected.</summary>
    public const string Paused = "paused";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>Sync Data runs per LINE account (table <c>SyncRuns</c>), newest first: the dashboard's history reads them.</summary>
public sealed class SyncRunHistory(LumoTables tables)
{
    public const int MaxFailureDetails = 100;
    // Japanese and quotes as they are, not as 6-character escapes: 100 details of at most 250 characters stay within a 64 KiB property.
    private static readonly JsonSerializerOptions Unescaped = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Run ids sort newest first (inverted ticks of the start), with a random tail so two runs never share one.</summary>
    public static string NewRunId(DateTimeOffset startedAt) =>
        $"{DateTimeOffset.MaxValue.Ticks - startedAt.UtcTicks:D19}-{Guid.NewGuid().ToString("N")[..8]}";

    public async Task SaveAsync(SyncRun run, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.SyncRuns, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(AccountPartition.Of(run.WorkspaceId, run.AccountId), run.Id)
        {
            ["Kind"] = run.Kind, ["StartedAt"] = run.StartedAt, ["FinishedAt"] = run.FinishedAt, ["Status"] = run.Status, ["Profiles"] = run.Profiles,
            ["Failures"] = run.Failures, ["Counts"] = JsonSerializer.Serialize(run.Counts), ["FailureDetails"] = JsonSerializer.Serialize(run.FailureDetails, Unescaped),
            ["Problem"] = run.Problem, ["Cursor"] = run.Cursor,
        }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<SyncRun?> GetIfExistsAsync(string workspaceId, string accountId, string runId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.SyncRuns, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(AccountPartition.Of(workspaceId, accountId), runId, cancellationToken: cancellationToken);
        return row.HasValue ? FromRow(row.Value!) : null;
    }

    /// <summary>The newest runs of the account first, of one kind or of all.</summary>
    public async Task<List<SyncRun>> ListAsync(string workspaceId, string accountId, int max, CancellationToken cancellationToken, string? kind = null)
    {
        var table = await tables.GetAsync(TableNames.SyncRuns, cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        // Runs only: the cancellation marks sort after them.
        var filter = kind is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {CancelMarkPrefix}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {CancelMarkPrefix} and Kind eq {kind}");
        var result = new List<SyncRun>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), cancellationToken: cancellationToken))
        {
            result.Add(FromRow(row));
            if (result.Count >= max) break;
        }
        return result;
    }

    public async Task DeleteAsync(SyncRun run, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.SyncRuns, cancellationToken);
        await table.DeleteEntityAsync(AccountPartition.Of(run.WorkspaceId, run.AccountId), run.Id, Azure.ETag.All, cancellationToken);
    }

    private const string CancelMarkPrefix = "~cancel:";

    /// <summary>
    /// Asks a run to stop: a mark beside the run, which the run reads before each page (so its own saves never undo
    /// the request). False when there is no such unfinished run.
    /// </summary>
    public async Task<bool> RequestCancelAsync(SyncRun run, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (run.IsFinished) return false;
        var table = await tables.GetAsync(TableNames.SyncRuns, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(AccountPartition.Of(run.WorkspaceId, run.AccountId), CancelMarkPrefix + run.Id), TableUpdateMode.Replace, cancellationToken);
        // A paused or queued run has no invocation to read the mark soon: it is cancelled here (one that picks it up meanwhile reads the mark).
        if (run.Status is SyncRunStatus.Paused or SyncRunStatus.Queued)
            await SaveAsync(run with { Status = SyncRunStatus.Cancelled, FinishedAt = now, Cursor = null, Problem = "Cancelled by an administrator." }, cancellationToken);
        return true;
    }

    public async Task<bool> IsCancelRequestedAsync(SyncRun run, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.SyncRuns, cancellationToken);
        return (await table.GetEntityIfExistsAsync<TableEntity>(AccountPartition.Of(run.WorkspaceId, run.AccountId), CancelMarkPrefix + run.Id, select: ["RowKey"],
            cancellationToken: cancellationToken)).HasValue;
    }

    /// <summary>Deletes the account's whole sync history (disconnecting Klaviyo removes what was brought in from it).</summary>
    public async Task DeleteAllAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.SyncRuns, cancellationToken);
        await TableDeletes.DeleteMatchingAsync(table, TableClient.CreateQueryFilter($"PartitionKey eq {AccountPartition.Of(workspaceId, accountId)}"), () => true, cancellationToken);
    }

    private static SyncRun FromRow(TableEntity row)
    {
        var (workspaceId, accountId) = AccountPartition.Parse(row.PartitionKey);
        return new SyncRun
        {
            Id = row.RowKey, WorkspaceId = workspaceId, AccountId = accountId, Kind = row.GetString("Kind") ?? "",
            StartedAt = row.GetDateTimeOffset("StartedAt") ?? DateTimeOffset.MinValue, FinishedAt = row.GetDateTimeOffset("FinishedAt"),
            Status = row.GetString("Status") ?? SyncRunStatus.Queued, Profiles = row.GetInt32("Profiles") ?? 0, Failures = row.GetInt32("Failures") ?? 0,
            Counts = row.GetString("Counts") is { } counts ? JsonSerializer.Deserialize<Dictionary<string, int>>(counts)! : new Dictionary<string, int>(),
            FailureDetails = row.GetString("FailureDetails") is { } failures ? JsonSerializer.Deserialize<List<string>>(failures)! : [],
            Problem = row.GetString("Problem"), Cursor = row.GetString("Cursor"), UpdatedAt = row.Timestamp,
        };
    }
}
