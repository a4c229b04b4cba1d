using System.Text.Json;
using Azure.Data.Tables;
using Lumo.Core.Connections;
using Lumo.Core.Klaviyo;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Friends;

/// <summary>Queue message: start a bulk property sync of an account, or check on a running import job.</summary>
public sealed record ProfileSyncRequest(string WorkspaceId, string AccountId, string? JobId = null);

/// <summary>
/// Writes the LINE properties of every linked friend of an account through Klaviyo bulk profile import jobs
/// (≤ 10,000 profiles and ≤ 5 MB each), follows each job to completion and records per-profile import errors in
/// the job's row, where the admin API shows them. For many changes at once; single changes go out directly.
/// </summary>
public sealed class FriendBulkSync(WorkspaceStore workspaces, LineFriendStore friends, KlaviyoClient klaviyo, KlaviyoConnectionHealth health, LumoTables tables,
    LumoQueues queues, TimeProvider clock, ILogger<FriendBulkSync> logger)
{
    public const int MaxProfilesPerJob = 10_000;
    public const int MaxBytesPerJob = 4_500_000;
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Writes every linked friend's properties; returns how many jobs were started. Nothing while the Klaviyo
    /// connection is paused (resuming it starts this again), and a refused key pauses it instead of failing.
    /// </summary>
    public async Task<int> StartAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var account = await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, cancellationToken);
        if (account is null || await health.IsPausedAsync(workspaceId, cancellationToken)) return 0;
        try
        {
            return await StartJobsAsync(account, friends.ListAsync(workspaceId, accountId, linked: true, cancellationToken), cancellationToken);
        }
        catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
        {
            await health.PauseIfRefusedAsync(workspaceId, "bulk LINE property write", e, cancellationToken);
            return 0;
        }
    }

    /// <summary>Writes the LINE properties of these linked friends in as few import jobs as the limits allow; returns how many jobs.</summary>
    public async Task<int> StartJobsAsync(LineAccount account, IAsyncEnumerable<LineFriend> linkedFriends, CancellationToken cancellationToken)
    {
        var jobs = 0;
        var batch = new List<KlaviyoProfileUpsert>();
        var bytes = 0;
        await foreach (var friend in linkedFriends.WithCancellation(cancellationToken))
        {
            var profile = new KlaviyoProfileUpsert(friend.KlaviyoProfileId, null, null, FriendProperties.For(friend, account));
            var size = JsonSerializer.SerializeToUtf8Bytes(profile.Properties).Length + 120;
            if (batch.Count == MaxProfilesPerJob || bytes + size > MaxBytesPerJob)
            {
                await StartJobAsync(account, batch, cancellationToken);
                (batch, bytes, jobs) = ([], 0, jobs + 1);
            }
            batch.Add(profile);
            bytes += size;
        }
        if (batch.Count > 0)
        {
            await StartJobAsync(account, batch, cancellationToken);
            jobs++;
        }
        return jobs;
    }

    private async Task StartJobAsync(LineAccount account, List<KlaviyoProfileUpsert> profiles, CancellationToken cancellationToken)
    {
        var jobId = await klaviyo.CreateProfileImportJobAsync(account.WorkspaceId, profiles, cancellationToken);
        var table = await tables.GetAsync(TableNames.KlaviyoImportJobs, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(account.WorkspaceId, jobId)
        {
            ["AccountId"] = account.Id, ["Profiles"] = profiles.Count, ["Status"] = "queued", ["StartedAt"] = clock.GetUtcNow(),
        }, TableUpdateMode.Merge, cancellationToken);
        logger.LogInformation("Started Klaviyo import job {JobId} with {Count} profiles for account {AccountId}", jobId, profiles.Count, account.Id);
        await queues.EnqueueAsync(QueueNames.KlaviyoProfileSync, new ProfileSyncRequest(account.WorkspaceId, account.Id, jobId), cancellationToken);
    }

    /// <summary>True when the job has finished (and its outcome is recorded); false to check again later.</summary>
    public async Task<bool> CheckAsync(ProfileSyncRequest request, CancellationToken cancellationToken)
    {
        if (await health.IsPausedAsync(request.WorkspaceId, cancellationToken)) return false; // look again once it works
        KlaviyoImportJob job;
        try
        {
            job = await klaviyo.GetProfileImportJobAsync(request.WorkspaceId, request.JobId!, cancellationToken);
        }
        catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
        {
            await health.PauseIfRefusedAsync(request.WorkspaceId, "bulk import job check", e, cancellationToken);
            return false;
        }
        var table = await tables.GetAsync(TableNames.KlaviyoImportJobs, cancellationToken);
        var row = new TableEntity(request.WorkspaceId, job.Id) { ["Status"] = job.Status, ["Completed"] = job.Completed, ["Failed"] = job.Failed };
        if (job.IsFinished)
        {
            var errors = job.Failed > 0 ? await klaviyo.GetImportErrorsAsync(request.WorkspaceId, job.Id, cancellationToken) : [];
            row["Errors"] = JsonSerializer.Serialize(errors.Take(100));
            row["FinishedAt"] = clock.GetUtcNow();
            if (job.Failed > 0)
                logger.LogWarning("Klaviyo import job {JobId} finished with {Failed} of {Total} profiles failed", job.Id, job.Failed, job.Total);
        }
        await table.UpsertEntityAsync(row, TableUpdateMode.Merge, cancellationToken);
        return job.IsFinished;
    }

    public async Task<List<TableEntity>> ListJobsAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.KlaviyoImportJobs, cancellationToken);
        var result = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == workspaceId, cancellationToken: cancellationToken))
            result.Add(row);
        return result;
    }
}
