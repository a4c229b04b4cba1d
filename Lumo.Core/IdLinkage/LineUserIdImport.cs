using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Lumo.Core.Connections;
using Lumo.Core.Friends;
using Lumo.Core.Klaviyo;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.IdLinkage;

/// <summary>
/// Queue message: import (or go on importing, from <see cref="Next"/>) an account's existing LINE user IDs. A
/// continuation names the run that queued it (<see cref="HandoverFrom"/>), which still holds the lease at that moment.
/// </summary>
public sealed record LineUserIdImportRequest(string WorkspaceId, string AccountId, string? RunId = null, string? Next = null, string? HandoverFrom = null);

/// <summary>
/// Existing-ID import: pages the account's source segment (<see cref="SegmentWalk"/>) and links every profile whose LINE user ID property names a
/// friend of this account. Profiles already carrying this account's <c>LINE User ID</c> with the same value are
/// done and cost no storage work, so the run every 15 minutes is cheap once the segment is imported. New links
/// record <c>Linked LINE Identity</c> and have their properties written in bulk import jobs. Memory holds one page
/// and the pending property writes (at most one import job's worth). Runs hand over to a fresh invocation after
/// <see cref="RunBudget"/>; one run per account at a time (a lease).
/// </summary>
public sealed partial class LineUserIdImport(IdLinkageSettingsStore settingsStore, WorkspaceStore workspaces, LineFriendLookup friendLookup,
    SegmentWalk segment, IdLinking linking, FriendBulkSync bulkSync, LinkImportHistory history, KlaviyoConnectionHealth health,
    LeaseStore leases, LumoQueues queues, TimeProvider clock, ILogger<LineUserIdImport> logger)
{
    private const string LeaseScope = "line-user-id-import";
    private const int Parallelism = 16;
    private readonly string _owner = Guid.NewGuid().ToString("N");

    /// <summary>How long one invocation works before handing over (settable so tests can force a hand-over).</summary>
    public TimeSpan RunBudget { get; set; } = TimeSpan.FromMinutes(8);

    /// <summary>Imports (part of) the segment; returns the run as it stands, or null when there was nothing to do.</summary>
    public async Task<LinkImportRun?> RunAsync(LineUserIdImportRequest request, CancellationToken cancellationToken)
    {
        var settings = await settingsStore.GetIfExistsAsync(request.WorkspaceId, request.AccountId, cancellationToken);
        var account = await workspaces.GetAccountIfExistsAsync(request.WorkspaceId, request.AccountId, cancellationToken);
        var leaseKey = $"{request.WorkspaceId}:{request.AccountId}";
        if (account is null || await health.IsPausedAsync(account.WorkspaceId, cancellationToken)
            || !await leases.TryAcquireAsync(LeaseScope, leaseKey, _owner, RunBudget + TimeSpan.FromMinutes(2), cancellationToken, takingOverFrom: request.HandoverFrom))
            return null;
        var handedOver = false;
        try
        {
            var started = clock.GetUtcNow();
            var run = request.RunId is { } runId ? await history.GetIfExistsAsync(request.WorkspaceId, request.AccountId, runId, cancellationToken) : null;
            if (settings is not { ImportConfigured: true })
            {
                // The source segment was removed: the import stops, and a run that was under way says so.
                if (run is not null) await history.SaveAsync(run = run with { Status = "stopped", FinishedAt = started, Problem = "The source segment was removed from the settings." }, cancellationToken);
                return run;
            }
            run ??= new LinkImportRun { Id = LinkImportHistory.NewRunId(started), WorkspaceId = account.WorkspaceId, AccountId = account.Id, SegmentId = settings.ImportSegmentId!, StartedAt = started };
            await history.SaveAsync(run, cancellationToken);
            try
            {
                run = await ImportPagesAsync(account, settings, run, request.Next, started, cancellationToken);
                handedOver = run.Status == "running"; // neither finished nor stopped: a continuation is queued
                return run;
            }
            catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
            {
                // Paused, not failed: the next scheduled run after reconnecting imports the segment again.
                await health.PauseIfRefusedAsync(account.WorkspaceId, "existing-ID import", e, cancellationToken);
                await history.SaveAsync(run = run with { Status = "paused", FinishedAt = clock.GetUtcNow(), Problem = "The Klaviyo connection needs reconnecting." }, cancellationToken);
                return run;
            }
        }
        finally
        {
            // A run that handed over keeps the lease for its continuation (which takes it over by name), so no
            // scheduled run slips in between and starts the segment again while the continuation is dropped.
            if (!handedOver) await leases.ReleaseAsync(LeaseScope, leaseKey, _owner, CancellationToken.None);
        }
    }

    private async Task<LinkImportRun> ImportPagesAsync(LineAccount account, IdLinkageSettings settings, LinkImportRun run, string? next, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var toWrite = new ConcurrentQueue<LineFriend>();
        var end = await segment.RunAsync(account.WorkspaceId, settings.ImportSegmentId!, next, started, RunBudget, async profiles =>
        {
            run = await ImportPageAsync(account, settings, run, profiles, toWrite, cancellationToken);
            if (toWrite.Count >= FriendBulkSync.MaxProfilesPerJob) await WritePropertiesAsync(account, toWrite, cancellationToken);
        }, cancellationToken);
        await WritePropertiesAsync(account, toWrite, cancellationToken);
        if (end.SegmentGone)
        {
            logger.LogWarning("Source segment {SegmentId} of account {AccountId} no longer exists; import stopped", settings.ImportSegmentId, account.Id);
            run = run with { Status = "stopped", FinishedAt = clock.GetUtcNow(), Problem = $"The source segment {settings.ImportSegmentId} no longer exists in Klaviyo." };
        }
        else if (end.Completed)
        {
            run = run with { Status = "completed", FinishedAt = clock.GetUtcNow() };
            logger.LogInformation("Imported LINE user IDs of account {AccountId}: {Profiles} profiles, {Linked} linked, {Conflicts} conflicts",
                account.Id, run.Profiles, run.Linked, run.Conflicts);
        }
        await history.SaveAsync(run, cancellationToken);
        // Time is up: a fresh invocation goes on from the next page, before the function timeout.
        if (end.ContinueFrom is { } continueFrom)
            await queues.EnqueueAsync(QueueNames.LineUserIdImports, new LineUserIdImportRequest(account.WorkspaceId, account.Id, run.Id, continueFrom, HandoverFrom: _owner), cancellationToken);
        return run;
    }

    private async Task<LinkImportRun> ImportPageAsync(LineAccount account, IdLinkageSettings settings, LinkImportRun run, IReadOnlyList<KlaviyoProfile> profiles,
        ConcurrentQueue<LineFriend> toWrite, CancellationToken cancellationToken)
    {
        var names = account.PropertyNames;
        int linked = 0, already = 0, notFriends = 0, withoutId = 0, conflicts = 0;
        await Parallel.ForEachAsync(profiles, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (profile, ct) =>
        {
            var userId = profile.TextProperty(settings.ImportUserIdProperty!)?.Trim();
            if (userId is null || !LineUserId().IsMatch(userId))
            {
                Interlocked.Increment(ref withoutId);
                return;
            }
            if (profile.TextProperty(names.UserId) == userId && profile.Properties.ContainsKey(names.FollowStatus))
            {
                Interlocked.Increment(ref already); // linked and written by an earlier run
                return;
            }
            var friend = await friendLookup.FindAsync(account, userId, ct);
            if (friend?.FollowStatus != FollowStatus.Friend)
            {
                Interlocked.Increment(ref notFriends);
                return;
            }
            var result = await linking.LinkAsync(account, userId, profile.Id, LinkMethods.Import, friend.DisplayName, ct, pushProperties: false);
            if (!result.IsLinked)
            {
                Interlocked.Increment(ref conflicts);
                return;
            }
            Interlocked.Increment(ref result.Outcome == LinkWriteOutcome.Linked ? ref linked : ref already);
            toWrite.Enqueue(result.Friend);
        });
        run = run with
        {
            Profiles = run.Profiles + profiles.Count, Linked = run.Linked + linked, AlreadyLinked = run.AlreadyLinked + already,
            NotFriends = run.NotFriends + notFriends, WithoutUserId = run.WithoutUserId + withoutId, Conflicts = run.Conflicts + conflicts,
        };
        return run;
    }

    private async Task WritePropertiesAsync(LineAccount account, ConcurrentQueue<LineFriend> toWrite, CancellationToken cancellationToken)
    {
        var batch = new List<LineFriend>();
        while (toWrite.TryDequeue(out var friend)) batch.Add(friend);
        if (batch.Count > 0) await bulkSync.StartJobsAsync(account, batch.ToAsyncEnumerable(), cancellationToken);
    }

    // LINE user IDs: "U" and 32 lower-case hex digits (https://developers.line.biz/en/docs/messaging-api/getting-user-ids/).
    [GeneratedRegex("^U[0-9a-f]{32}$")]
    private static partial Regex LineUserId();
}
