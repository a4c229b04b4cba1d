using System.Text.Json;
using Lumo.Core.Connections;
using Lumo.Core.Friends;
using Lumo.Core.Http;
using Lumo.Core.Klaviyo;
using Lumo.Core.Line;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.SyncData;

/// <summary>Queue message: work on (or go on with) consent refresh <see cref="RunId"/>; a continuation names the invocation that queued it.</summary>
public sealed record ConsentRefreshRequest(string WorkspaceId, string AccountId, string RunId, string? HandoverFrom = null);

/// <summary>
/// "Update LINE Consent Status": asks LINE who really follows the account and brings every stored friend's follow
/// status and consent in line — friends become <c>friend</c>/<c>granted</c>, the others <c>blocked</c>/<c>withdrawn</c>,
/// with <c>LINE Consent Source</c> saying it was this refresh — then writes the changed linked friends' LINE
/// properties (all six together) to Klaviyo in bulk import jobs. It never changes the follow on LINE itself.
/// </summary>
/// <remarks>
/// <para>Where the account may use it, LINE's follower-IDs API lists the followers 1,000 a page; they are saved as a
/// snapshot and walked side by side with the friends table, both in user ID order, so memory stays flat. Followers
/// Lumo never saw become friends. A friend missing from the list is checked with the profile API before losing
/// consent, since the list leaves out users of LINE on PC. Accounts that may not use the list (unverified ones)
/// ask the profile API for each friend, paced under LINE's 2,000 requests per second.</para>
/// <para>The run saves where it is after each chunk of friends whose changes have all reached Klaviyo (or needed
/// none), hands over to a fresh invocation after <see cref="RunBudget"/>, and after a crash goes on from that point.
/// Friends this run already changed are recognised by their consent source and time and written again, so a crash
/// between the friend's row and Klaviyo's import loses nothing. A consent change newer than the run's start (a
/// follow or block webhook meanwhile) is never overwritten.</para>
/// </remarks>
public sealed class ConsentRefresh(WorkspaceStore workspaces, LineFriendStore friends, LineFollowerSnapshot followers, LineMessagingClient line,
    FriendBulkSync bulkSync, KlaviyoConnectionHealth klaviyoHealth, SyncRunHistory history, LeaseStore leases, LumoQueues queues, TimeProvider clock,
    ILogger<ConsentRefresh> logger)
{
    /// <summary>How a changed friend's consent source reads: "LINE @basicid (consent refresh)".</summary>
    public const string How = "consent refresh";
    /// <summary>The profile API's pace: under LINE's 2,000 requests per second per channel, with room for the bucket's burst and for linking look-ups.</summary>
    public const int ProfileCallsPerSecond = 1_900;
    /// <summary>The most profile calls in any one second, however late this machine sends the paced ones.</summary>
    public const int ProfileCallsPerRollingSecond = 1_960;
    private const string LeaseScope = "consent-refresh";
    private const int ChunkSize = 1_000;
    private const int Parallelism = 64;
    private const int ChunksAtOnce = 2;
    private const int PagesSavedAtOnce = 4;
    private static readonly TimeSpan BusyDelay = TimeSpan.FromMinutes(1);
    /// <summary>A run that has not saved progress for this long is taken to be lost (its message parked), and a new one may start.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(15);

    private readonly string _owner = Guid.NewGuid().ToString("N");
    // Fields, not the constructor's parameters, so that a run's Work can use them.
    private readonly LineFriendStore _friends = friends;
    private readonly LineFollowerSnapshot _followers = followers;
    private readonly LineMessagingClient _line = line;
    private readonly FriendBulkSync _bulkSync = bulkSync;
    private readonly KlaviyoConnectionHealth _klaviyoHealth = klaviyoHealth;
    private readonly SyncRunHistory _history = history;
    private readonly TimeProvider _clock = clock;

    /// <summary>How long one invocation works before handing over (settable so tests can force a hand-over).</summary>
    public TimeSpan RunBudget { get; set; } = TimeSpan.FromMinutes(8);

    /// <summary>Queues a refresh of the account; when one is already under way, returns that one with <c>Started</c> false.</summary>
    public async Task<(SyncRun Run, bool Started)> StartAsync(LineAccount account, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        var latest = (await _history.ListAsync(account.WorkspaceId, account.Id, 1, cancellationToken, SyncKinds.ConsentRefresh)).FirstOrDefault();
        if (latest is { IsFinished: false } && now - (latest.UpdatedAt ?? latest.StartedAt) < StaleAfter) return (latest, false);
        var run = new SyncRun { Id = SyncRunHistory.NewRunId(now), WorkspaceId = account.WorkspaceId, AccountId = account.Id, Kind = SyncKinds.ConsentRefresh, StartedAt = now };
        await _history.SaveAsync(run, cancellationToken);
        await queues.EnqueueAsync(QueueNames.ConsentRefreshes, new ConsentRefreshRequest(account.WorkspaceId, account.Id, run.Id), cancellationToken);
        logger.LogInformation("Consent refresh {RunId} of account {AccountId} queued", run.Id, account.Id);
        return (run, true);
    }

    /// <summary>Works on the run until it finishes or its budget is spent (then a continuation is queued); returns it as it stands.</summary>
    public async Task<SyncRun?> RunAsync(ConsentRefreshRequest request, CancellationToken cancellationToken)
    {
        var run = await _history.GetIfExistsAsync(request.WorkspaceId, request.AccountId, request.RunId, cancellationToken);
        if (run is null || run.IsFinished) return run;
        var account = await workspaces.GetAccountIfExistsAsync(request.WorkspaceId, request.AccountId, cancellationToken);
        if (account is null)
        {
            await _history.SaveAsync(run = run with { Status = SyncRunStatus.Failed, FinishedAt = _clock.GetUtcNow(), Problem = "The LINE account was deleted." }, cancellationToken);
            return run;
        }
        var leaseKey = AccountPartition.Of(account.WorkspaceId, account.Id);
        if (!await leases.TryAcquireAsync(LeaseScope, leaseKey, _owner, RunBudget + TimeSpan.FromMinutes(2), cancellationToken, takingOverFrom: request.HandoverFrom))
        {
            // Another invocation is at work on this account (this run delivered twice, or the one before): look again later.
            await queues.EnqueueAsync(QueueNames.ConsentRefreshes, request with { HandoverFrom = null }, cancellationToken, BusyDelay);
            return run;
        }
        var handedOver = false;
        try
        {
            using var work = new Work(account, run with { Status = SyncRunStatus.Running }, _clock.GetUtcNow() + RunBudget);
            await _history.SaveAsync(work.Checkpoint, cancellationToken);
            try
            {
                run = await work.RunAsync(this, cancellationToken);
            }
            catch (LineApiException e) when (e.IsAuthenticationFailure)
            {
                logger.LogWarning("LINE refused the access token of account {AccountId} during consent refresh {RunId}", account.Id, run.Id);
                await workspaces.RecordLineConnectionAsync(account.WorkspaceId, account.Id,
                    new ConnectionState(ConnectionStatus.Failed, _clock.GetUtcNow(), $"consent refresh: LINE answered {e.Status}: {e.Message}"), null, cancellationToken);
                // What this run changed so far still reaches Klaviyo: a later run would see those friends as unchanged.
                run = await work.WritePendingAsync(cancellationToken) with
                {
                    Status = SyncRunStatus.Failed, FinishedAt = _clock.GetUtcNow(), Cursor = null, Problem = $"LINE refused the channel access token ({e.Status}): reconnect the account and start again.",
                };
            }
            await _history.SaveAsync(run, cancellationToken);
            if (!run.IsFinished)
            {
                await queues.EnqueueAsync(QueueNames.ConsentRefreshes, request with { HandoverFrom = _owner }, cancellationToken);
                handedOver = true;
            }
            else
            {
                logger.LogInformation("Consent refresh {RunId} of account {AccountId} {Status}: {Profiles} friends checked, {Failures} failures",
                    run.Id, account.Id, run.Status, run.Profiles, run.Failures);
            }
            return run;
        }
        finally
        {
            // A run that handed over keeps the lease for its continuation, which takes it over by name.
            if (!handedOver) await leases.ReleaseAsync(LeaseScope, leaseKey, _owner, CancellationToken.None);
        }
    }

    /// <summary>Where a run is: listing followers (Position = LINE's next-page token), comparing, or asking per friend (Position = the last friend done).</summary>
    private sealed record Cursor(string Phase, string? Position)
    {
        public const string ListingFollowers = "followers", Comparing = "compare", AskingProfiles = "profiles";
        public static Cursor Of(SyncRun run) => run.Cursor is { } json ? JsonSerializer.Deserialize<Cursor>(json)! : new Cursor(ListingFollowers, null);
        public override string ToString() => JsonSerializer.Serialize(this);
    }

    /// <summary>
    /// One invocation's work on a run. <see cref="Checkpoint"/> is the run as saved: counts and cursor move together,
    /// and only past friends whose Klaviyo writes have started.
    /// </summary>
    private sealed class Work(LineAccount account, SyncRun run, DateTimeOffset deadline) : IDisposable
    {
        // Stops the read-ahead of the tables when the work ends early (out of time, or a failure).
        private readonly CancellationTokenSource _stop = new();
        private readonly LineAccountRef _channel = new(account.WorkspaceId, account.Id);
        private readonly List<LineFriend> _toWrite = [];
        // The pace spreads the calls evenly, with a twentieth of a second's calls at once after a pause; the rolling
        // limit keeps any second under LINE's limit when a stall of this machine lets paced calls go out late and
        // together (without it 0.1 % of a 100,000-friend run got 429 while the process stalled every second). Real
        // time, not the injected clock: LINE counts calls in real seconds, whatever time a test pretends it is.
        private readonly SteadyPace _profilePace = new(ProfileCallsPerSecond, TimeSpan.FromMilliseconds(50), TimeProvider.System);
        private readonly RollingSecondLimit _profileLimit = new(ProfileCallsPerRollingSecond, TimeProvider.System);
        private readonly SyncRun _run = run;
        private SyncRun _progress = run;
        private ConsentRefresh _refresh = null!;

        public SyncRun Checkpoint { get; private set; } = run;

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }

        /// <summary>Starts the Klaviyo writes of the friends changed so far; the run with everything counted.</summary>
        public async Task<SyncRun> WritePendingAsync(CancellationToken cancellationToken)
        {
            await WriteToKlaviyoAsync(cancellationToken);
            return _progress;
        }

        public async Task<SyncRun> RunAsync(ConsentRefresh refresh, CancellationToken cancellationToken)
        {
            _refresh = refresh;
            var cursor = Cursor.Of(_run);
            if (cursor.Phase == Cursor.ListingFollowers) cursor = await ListFollowersAsync(cursor, cancellationToken);
            if (cursor is null) return Checkpoint; // out of time while listing
            var items = cursor.Phase == Cursor.Comparing
                ? CompareWithFollowersAsync(cursor.Position, cancellationToken)
                : ReadAhead(refresh._friends.ListAsync(account.WorkspaceId, account.Id, null, cancellationToken, afterUserId: cursor.Position), cancellationToken)
                    .Select(f => (f.UserId, (LineFriend?)f, (bool?)null));
            // Two chunks are at work at once, so the slowest calls of one do not hold the next one back; what they did is
            // still counted, and the cursor moved, a whole chunk at a time and in order.
            var inFlight = new Queue<ChunkWork>();
            using var stopChunks = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                await foreach (var chunk in items.Chunk(ChunkSize).WithCancellation(cancellationToken))
                {
                    inFlight.Enqueue(ChunkWork.Start(chunk, DecideAsync, stopChunks.Token));
                    if (inFlight.Count < ChunksAtOnce) continue;
                    if (await CompleteOldestAsync(inFlight, cursor, cancellationToken)) return Checkpoint;
                }
                while (inFlight.Count > 0)
                    if (await CompleteOldestAsync(inFlight, cursor, cancellationToken)) return Checkpoint;
            }
            catch
            {
                // What the chunks still at work finished is counted, and its Klaviyo writes kept for WritePendingAsync.
                await stopChunks.CancelAsync();
                foreach (var work in inFlight)
                {
                    try { await work.Done; }
                    catch { /* the failure that matters is already on its way */ }
                    Count(work);
                }
                throw;
            }
            await WriteToKlaviyoAsync(cancellationToken);
            return Checkpoint = _progress with { Status = SyncRunStatus.Completed, FinishedAt = refresh._clock.GetUtcNow(), Cursor = null };
        }

        // Pages through LINE's follower list into the snapshot; returns where the friends are to be walked, or null when
        // out of time. The next page is fetched, and a few pages are saved, while this one is; the cursor moves past a
        // page only once it and every page before it are saved.
        private async Task<Cursor?> ListFollowersAsync(Cursor cursor, CancellationToken cancellationToken)
        {
            var page = await _refresh._line.GetFollowerIdsAsync(_channel, cursor.Position, cancellationToken);
            if (page is null)
            {
                _progress = _progress.WithCount("followerListUnavailable", 1); // says in the history why each friend was asked
                await SaveCheckpointAsync(cursor = new Cursor(Cursor.AskingProfiles, null), cancellationToken);
                return cursor;
            }
            var saving = new Queue<(Task Saved, LineFollowerIds Page)>();
            async Task DrainAsync(int keep)
            {
                while (saving.Count > keep)
                {
                    var (saved, done) = saving.Dequeue();
                    await saved;
                    _progress = _progress.WithCount("followersListed", done.UserIds.Count);
                    cursor = done.Next is { } position ? cursor with { Position = position } : new Cursor(Cursor.Comparing, null);
                }
            }
            for (var pages = 1; ; pages++)
            {
                var next = page.Next is { } token ? _refresh._line.GetFollowerIdsAsync(_channel, token, cancellationToken) : null;
                saving.Enqueue((_refresh._followers.SaveAsync(account.WorkspaceId, account.Id, _run.Id, page.UserIds, cancellationToken), page));
                var outOfTime = _refresh._clock.GetUtcNow() >= deadline;
                await DrainAsync(next is null || outOfTime ? 0 : PagesSavedAtOnce);
                if (next is null || outOfTime || pages % 10 == 0) await SaveCheckpointAsync(cursor, cancellationToken);
                if (next is null) return cursor;
                if (outOfTime)
                {
                    KlaviyoProfilePull.Forget(next); // fetched again by the continuation
                    return null;
                }
                if (await next is not { } following)
                {
                    // LINE stopped listing midway (the account lost the permission): every friend is asked instead.
                    await DrainAsync(0);
                    _progress = _progress.WithCount("followerListUnavailable", 1);
                    await SaveCheckpointAsync(cursor = new Cursor(Cursor.AskingProfiles, null), cancellationToken);
                    return cursor;
                }
                page = following;
            }
        }

        // The friends and this run's follower snapshot side by side, both in user ID order: (user, stored friend or
        // null, whether LINE listed them). Snapshot rows of earlier runs were filtered out by the query.
        private async IAsyncEnumerable<(string, LineFriend?, bool?)> CompareWithFollowersAsync(string? after,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            // Each side reads ahead on its own, so the two tables' pages are fetched at the same time.
            await using var stored = ReadAhead(_refresh._friends.ListAsync(account.WorkspaceId, account.Id, null, cancellationToken, afterUserId: after), cancellationToken)
                .GetAsyncEnumerator(cancellationToken);
            await using var listed = ReadAhead(_refresh._followers.ReadAsync(account.WorkspaceId, account.Id, _run.Id, after, cancellationToken), cancellationToken)
                .GetAsyncEnumerator(cancellationToken);
            bool hasStored = await stored.MoveNextAsync(), hasListed = await listed.MoveNextAsync();
            while (hasStored || hasListed)
            {
                var order = !hasStored ? 1 : !hasListed ? -1 : string.CompareOrdinal(stored.Current.UserId, listed.Current);
                if (order <= 0) yield return (stored.Current.UserId, stored.Current, order == 0);
                else yield return (listed.Current, null, true);
                if (order <= 0) hasStored = await stored.MoveNextAsync();
                if (order >= 0) hasListed = await listed.MoveNextAsync();
            }
        }

        private IAsyncEnumerable<T> ReadAhead<T>(IAsyncEnumerable<T> source, CancellationToken cancellationToken)
        {
            var buffer = System.Threading.Channels.Channel.CreateBounded<T>(ChunkSize * 2);
            var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
            _ = Task.Run(async () =>
            {
                try
                {
                    await foreach (var item in source.WithCancellation(stop.Token)) await buffer.Writer.WriteAsync(item, stop.Token);
                    buffer.Writer.Complete();
                }
                catch (Exception e)
                {
                    buffer.Writer.Complete(e);
                }
                finally
                {
                    stop.Dispose();
                }
            }, CancellationToken.None);
            return buffer.Reader.ReadAllAsync(cancellationToken);
        }

        // Waits for the oldest chunk, counts it, and saves the cursor past it when nothing waits for Klaviyo, enough
        // does, or time is up (then after every chunk still at work); true when out of time.
        private async Task<bool> CompleteOldestAsync(Queue<ChunkWork> inFlight, Cursor cursor, CancellationToken cancellationToken)
        {
            var oldest = inFlight.Peek();
            await oldest.Done;
            Count(inFlight.Dequeue());
            var outOfTime = _refresh._clock.GetUtcNow() >= deadline;
            if (outOfTime)
                while (inFlight.TryPeek(out var later))
                {
                    await later.Done; // a failure leaves it in the queue, so what it finished is still counted
                    Count(oldest = inFlight.Dequeue());
                }
            if (_toWrite.Count == 0 || _toWrite.Count >= FriendBulkSync.MaxProfilesPerJob || outOfTime)
                await SaveCheckpointAsync(cursor with { Position = oldest.LastUserId }, cancellationToken);
            return outOfTime;
        }

        private void Count(ChunkWork work)
        {
            foreach (var outcome in work.Outcomes)
            {
                if (outcome is null) continue; // not reached before a failure
                _progress = (outcome.Failure is { } failure ? _progress.WithFailure(failure) : _progress.WithCount(outcome.Name, 1)) with { Profiles = _progress.Profiles + 1 };
                if (outcome.Write is { IsLinked: true } written) _toWrite.Add(written);
            }
        }

        /// <summary>A chunk of friends decided at <see cref="Parallelism"/> at once; each outcome lands in its place.</summary>
        private sealed record ChunkWork(string LastUserId, Outcome?[] Outcomes, Task Done)
        {
            public static ChunkWork Start((string, LineFriend?, bool?)[] chunk, Func<string, LineFriend?, bool?, CancellationToken, Task<Outcome>> decide, CancellationToken cancellationToken)
            {
                var outcomes = new Outcome?[chunk.Length];
                var done = Parallel.ForAsync(0, chunk.Length, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
                    async (i, ct) => outcomes[i] = await decide(chunk[i].Item1, chunk[i].Item2, chunk[i].Item3, ct));
                return new ChunkWork(chunk[^1].Item1, outcomes, done);
            }
        }

        private sealed record Outcome(string Name, LineFriend? Write = null, string? Failure = null);

        private async Task<Outcome> DecideAsync(string userId, LineFriend? friend, bool? listed, CancellationToken cancellationToken)
        {
            var source = FriendProperties.ConsentSource(account, How);
            // Changed by this run before a crash or hand-over: its Klaviyo write may not have started, so it is written again.
            if (friend is not null && friend.ConsentSource == source && friend.ConsentUpdatedAt >= _run.StartedAt) return new Outcome("changedEarlier", friend);
            LineProfile? profile = null;
            // Asked when the list is not available, and before taking consent away from a friend the list left out.
            if (listed is null || (listed == false && friend is not { FollowStatus: FollowStatus.Blocked, Consent: Consent.Withdrawn }))
            {
                try
                {
                    await _profilePace.WaitAsync(cancellationToken);
                    await _profileLimit.WaitAsync(cancellationToken);
                    profile = await _refresh._line.GetProfileIfExistsAsync(_channel, userId, cancellationToken);
                }
                catch (LineApiException e) when (!e.IsAuthenticationFailure)
                {
                    return new Outcome("failed", Failure: $"{userId}: LINE answered {e.Status}: {e.Message}");
                }
                listed = profile is not null;
            }
            var following = listed is true;
            if (!following && friend is null or { FollowStatus: FollowStatus.Unknown, Consent: Consent.Unknown }) return new Outcome("notFriends");
            var (status, consent) = following ? (FollowStatus.Friend, Consent.Granted) : (FollowStatus.Blocked, Consent.Withdrawn);
            if (friend is not null && friend.FollowStatus == status && friend.Consent == consent) return new Outcome(following ? "stillFriends" : "stillBlocked");
            var now = _refresh._clock.GetUtcNow();
            var changed = false;
            LineFriend Change(LineFriend f)
            {
                // A follow or block webhook after the run started knows better than this run.
                changed = f.ConsentUpdatedAt is not { } at || at <= _run.StartedAt;
                return changed
                    ? f with { FollowStatus = status, Consent = consent, ConsentUpdatedAt = now, ConsentSource = source, DisplayName = profile?.DisplayName ?? f.DisplayName }
                    : f;
            }
            // The row the walk read is written under its ETag (a newer write meanwhile makes the store read it again).
            var saved = friend is null
                ? await _refresh._friends.UpdateAsync(account.WorkspaceId, account.Id, userId, Change, cancellationToken)
                : await _refresh._friends.UpdateAsync(friend, Change, cancellationToken, saveUnchanged: false);
            if (!changed) return new Outcome("newerKept");
            return new Outcome(friend is null ? "newFriends" : following ? "nowFriends" : "nowBlocked", saved);
        }

        private async Task SaveCheckpointAsync(Cursor cursor, CancellationToken cancellationToken)
        {
            await WriteToKlaviyoAsync(cancellationToken);
            Checkpoint = _progress = _progress with { Cursor = cursor.ToString() };
            await _refresh._history.SaveAsync(Checkpoint, cancellationToken);
        }

        // Changed linked friends' properties in bulk import jobs; while Klaviyo is paused they wait for the full write that resuming starts.
        private async Task WriteToKlaviyoAsync(CancellationToken cancellationToken)
        {
            if (_toWrite.Count == 0) return;
            var batch = _toWrite.ToList();
            _toWrite.Clear();
            if (await _refresh._klaviyoHealth.IsPausedAsync(account.WorkspaceId, cancellationToken))
            {
                _progress = _progress.WithCount("klaviyoWritesDeferred", batch.Count);
                return;
            }
            try
            {
                var jobs = await _refresh._bulkSync.StartJobsAsync(account, batch.ToAsyncEnumerable(), cancellationToken);
                _progress = _progress.WithCount("klaviyoProfilesWritten", batch.Count).WithCount("importJobs", jobs);
            }
            catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
            {
                await _refresh._klaviyoHealth.PauseIfRefusedAsync(account.WorkspaceId, "consent refresh property write", e, cancellationToken);
                _progress = _progress.WithCount("klaviyoWritesDeferred", batch.Count);
            }
        }
    }
}
