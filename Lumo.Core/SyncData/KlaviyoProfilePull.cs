using System.Text.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Connections;
using Lumo.Core.Friends;
using Lumo.Core.Http;
using Lumo.Core.IdLinkage;
using Lumo.Core.Klaviyo;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.SyncData;

/// <summary>
/// Queue message: pull (or resync, or go on with run <see cref="RunId"/>) Klaviyo profiles for an account; a
/// continuation names the invocation that queued it.
/// </summary>
public sealed record KlaviyoPullRequest(string WorkspaceId, string AccountId, string? RunId = null, string? HandoverFrom = null);

/// <summary>
/// Klaviyo → Lumo. A pull pages through the Klaviyo profiles updated since the last completed pull (less
/// <see cref="Overlap"/>, so a change made while that pull ran is not missed; the first pull reads every profile) and
/// stores the account's chosen fields on the linked friends, never replacing fields taken from a newer version of the
/// profile. When email or phone number are among the fields, they become the friend's contact details (and hashed
/// index), and unlinked friends whose contact details match a changed profile — both when the friend has both — are
/// linked to it ("automatic linking from synced data"). A value of the wrong kind for a friend field (an object or a
/// list, an invalid email or phone) is a per-profile failure in the run.
/// A resync (Resync Data) reads every profile, also links again the profiles that carry this account's
/// <c>LINE User ID</c> of a known friend (re-integration recreates links), and writes the LINE properties of every
/// linked friend it finds in bulk import jobs as it goes (also of one whose pulled field is a failure).
/// One pull or resync per account at a time (a lease). A pull saves its place about once a second, a resync with every
/// import job it starts; runs hand over after <see cref="RunBudget"/>, stop within a second of a cancellation, and pause
/// when Klaviyo refuses the credentials: the next scheduled pull after reconnecting (or a restart) goes on with an
/// unfinished run from the place last saved.
/// </summary>
public sealed class KlaviyoProfilePull(WorkspaceStore workspaces, LineFriendStore friends, KlaviyoClient klaviyo, IdLinking linking, FriendBulkSync bulkSync,
    KlaviyoConnectionHealth health, SyncRunHistory history, LeaseStore leases, LumoQueues queues, TimeProvider clock, ILogger<KlaviyoProfilePull> logger)
{
    public static readonly TimeSpan Overlap = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan BusyDelay = TimeSpan.FromMinutes(1);
    private const string LeaseScope = "klaviyo-pull";
    private const int Parallelism = 16;
    /// <summary>The longest value a pulled field may have: a friend row holds all of them (Table storage: 64 KiB a property, 1 MiB a row).</summary>
    public const int MaxFieldLength = 1_000;
    private readonly string _owner = Guid.NewGuid().ToString("N");

    /// <summary>How long one invocation works before handing over (settable so tests can force a hand-over).</summary>
    public TimeSpan RunBudget { get; set; } = TimeSpan.FromMinutes(8);

    /// <summary>
    /// Where a run is: the pages still to read (from <c>Next</c>), or — <c>PagesDone</c> — none left. <c>ImportsAsItGoes</c>
    /// is false on a resync saved before resyncs wrote properties page by page: that one writes every linked friend's at the end.
    /// </summary>
    private sealed record Cursor(DateTimeOffset? Since, string? Next, bool PagesDone = false, bool ImportsAsItGoes = false);

    /// <summary>
    /// Queues a resync of the account; when a pull or resync is unfinished, returns that one with <c>Started</c> false.
    /// </summary>
    public async Task<(SyncRun Run, bool Started)> StartResyncAsync(LineAccount account, CancellationToken cancellationToken)
    {
        if (await UnfinishedAsync(account, cancellationToken) is { } unfinished) return (unfinished, false);
        var run = NewRun(account, SyncKinds.Resync, null);
        await history.SaveAsync(run, cancellationToken);
        await queues.EnqueueAsync(QueueNames.KlaviyoPulls, new KlaviyoPullRequest(account.WorkspaceId, account.Id, run.Id), cancellationToken);
        return (run, true);
    }

    /// <summary>
    /// Works on the run named by the request, an unfinished one, or a new pull; returns it as it stands, or null when
    /// there was nothing to do (no fields chosen for a pull, Klaviyo paused, or the account's pull lease taken).
    /// </summary>
    public async Task<SyncRun?> RunAsync(KlaviyoPullRequest request, CancellationToken cancellationToken)
    {
        var account = await workspaces.GetAccountIfExistsAsync(request.WorkspaceId, request.AccountId, cancellationToken);
        if (account is null || await health.IsPausedAsync(account.WorkspaceId, cancellationToken)) return null;
        var leaseKey = AccountPartition.Of(request.WorkspaceId, request.AccountId);
        if (!await leases.TryAcquireAsync(LeaseScope, leaseKey, _owner, RunBudget + TimeSpan.FromMinutes(2), cancellationToken, takingOverFrom: request.HandoverFrom))
        {
            // A queued resync waits for the pull at work; a scheduled pull is simply skipped (the next one comes in 5 minutes).
            if (request.RunId is not null) await queues.EnqueueAsync(QueueNames.KlaviyoPulls, request with { HandoverFrom = null }, cancellationToken, BusyDelay);
            return null;
        }
        var handedOver = false;
        try
        {
            var run = await RunToWorkOnAsync(account, request.RunId, cancellationToken);
            if (run is null) return null;
            // Running from now on, in the history too: a resync saves its place only with its import jobs, and until then
            // the row would still say queued or paused (and a cancellation take the path for a run nobody works on).
            if (run.Status != SyncRunStatus.Running) await history.SaveAsync(run = run with { Status = SyncRunStatus.Running }, cancellationToken);
            run = await PullPagesAsync(account, run, clock.GetUtcNow() + RunBudget, cancellationToken);
            await SaveAsync(run, cancellationToken);
            if (run.Status == SyncRunStatus.Running)
            {
                await queues.EnqueueAsync(QueueNames.KlaviyoPulls, new KlaviyoPullRequest(account.WorkspaceId, account.Id, run.Id, _owner), cancellationToken);
                handedOver = true;
            }
            return run;
        }
        finally
        {
            if (!handedOver) await leases.ReleaseAsync(LeaseScope, leaseKey, _owner, CancellationToken.None);
        }
    }

    private const int RecentRuns = 50;

    private async Task<SyncRun?> UnfinishedAsync(LineAccount account, CancellationToken cancellationToken) =>
        Unfinished(await history.ListAsync(account.WorkspaceId, account.Id, RecentRuns, cancellationToken));

    private static SyncRun? Unfinished(IEnumerable<SyncRun> recent) => recent.FirstOrDefault(r => r.Kind is SyncKinds.KlaviyoPull or SyncKinds.Resync && !r.IsFinished);

    // The run a continuation or queued resync names, else an unfinished pull or resync (paused, or its invocation lost),
    // else a new pull from the last completed pull's start less the overlap (none when no field is pulled).
    private async Task<SyncRun?> RunToWorkOnAsync(LineAccount account, string? runId, CancellationToken cancellationToken)
    {
        if (runId is not null)
            return await history.GetIfExistsAsync(account.WorkspaceId, account.Id, runId, cancellationToken) is { IsFinished: false } named ? named : null;
        // One read of the recent history answers both questions (every 5 minutes per account).
        var recent = await history.ListAsync(account.WorkspaceId, account.Id, RecentRuns, cancellationToken);
        if (Unfinished(recent) is { } unfinished) return unfinished;
        if (account.PulledFields.Count == 0) return null;
        var lastPull = recent.FirstOrDefault(r => r is { Kind: SyncKinds.KlaviyoPull, Status: SyncRunStatus.Completed });
        var run = NewRun(account, SyncKinds.KlaviyoPull, lastPull?.StartedAt - Overlap) with { Status = SyncRunStatus.Running }; // worked on at once
        await history.SaveAsync(run, cancellationToken);
        return run;
    }

    private SyncRun NewRun(LineAccount account, string kind, DateTimeOffset? since)
    {
        var now = clock.GetUtcNow();
        return new SyncRun
        {
            Id = SyncRunHistory.NewRunId(now), WorkspaceId = account.WorkspaceId, AccountId = account.Id, Kind = kind, StartedAt = now,
            Cursor = JsonSerializer.Serialize(new Cursor(since, null, ImportsAsItGoes: true)),
        };
    }

    private async Task<SyncRun> PullPagesAsync(LineAccount account, SyncRun run, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var cursor = JsonSerializer.Deserialize<Cursor>(run.Cursor!)!;
        var workspace = await workspaces.GetWorkspaceIfExistsAsync(account.WorkspaceId, cancellationToken);
        var resync = run.Kind == SyncKinds.Resync;
        // A resync writes the LINE properties of the linked friends its pages found in bulk import jobs as it goes
        // (the friends are read anyway; listing them all again at the end would read them twice). Its place and counts
        // are saved only when no friend before that place waits for a job, so a crash or pause goes on from there and
        // counts nothing twice; a pull saves about once a second. A job starts once another page could overflow it, or
        // once its first friend has waited ImportWithin (so it never carries a row much older than a webhook's own
        // write of the same friend to Klaviyo).
        var toImport = new List<LineFriend>();
        var waitingSince = DateTimeOffset.MinValue;
        var (saved, savedAt) = (run, clock.GetUtcNow());
        var cancelCheckedAt = DateTimeOffset.MinValue;
        async Task ImportFoundAsync()
        {
            if (toImport.Count > 0) run = run.WithCount("importJobs", await bulkSync.StartJobsAsync(account, toImport.ToAsyncEnumerable(), cancellationToken));
            toImport.Clear();
        }
        // Pages being applied, oldest first. A page's friends take a few storage round trips while the next page is
        // already here, so several pages are applied at once; the run's place moves past a page only once it and
        // every page before it are done (and, in a resync, their friends are in a job), so a crash or hand-over goes on
        // from the oldest page not finished.
        var applying = new Queue<(Task<AppliedPage> Page, string? Next)>();
        async Task FinishOldestAsync()
        {
            var (page, next) = applying.Dequeue();
            var applied = await page;
            foreach (var (outcome, failure) in applied.Outcomes)
                run = (failure is null ? run.WithCount(outcome, 1) : run.WithFailure(failure)) with { Profiles = run.Profiles + 1 };
            if (toImport.Count == 0) waitingSince = clock.GetUtcNow();
            toImport.AddRange(applied.Linked);
            cursor = next is not null ? cursor with { Next = next } : cursor with { Next = null, PagesDone = true };
            run = run with { Cursor = JsonSerializer.Serialize(cursor), Problem = null };
            if (resync && toImport.Count > 0 && toImport.Count <= FriendBulkSync.MaxProfilesPerJob - ProfilesPerPage && !cursor.PagesDone
                && clock.GetUtcNow() - waitingSince < ImportWithin) return;
            await ImportFoundAsync();
            // A pull's place is worth saving once a second, not for each of its ~75 pages a second: a pull that stops
            // reads again at most that second's pages, and finds their friends unchanged. The caller saves its end.
            if (resync || clock.GetUtcNow() - savedAt >= ProgressEvery)
            {
                await history.SaveAsync(run, cancellationToken);
                (saved, savedAt) = (run, clock.GetUtcNow());
            }
        }
        // Klaviyo allows 75 profile pages a second but 750 a minute, so a pull of more than 750 pages waits for the next
        // minute, for up to a minute: longer than the HTTP handler waits itself (ResilienceDefaults.LongestWaitHere).
        Task<KlaviyoPage<KlaviyoProfile>> FetchPageAsync(string? link) =>
            ThrottleWaits.CallAsync(() => klaviyo.GetProfilesPageAsync(account.WorkspaceId, cursor.Since, link, cancellationToken), ThrottledAttempts,
                LongestThrottleWait, withoutRetryAfter: null, clock, cancellationToken);
        Task<KlaviyoPage<KlaviyoProfile>>? prefetched = null;
        try
        {
            for (var next = cursor.Next; !cursor.PagesDone;)
            {
                // Read before the invocation's first page, then once a second, not for each of up to 75 pages a second:
                // a cancelled run reads at most a second's pages more.
                var checksCancel = clock.GetUtcNow() - cancelCheckedAt >= ProgressEvery;
                if (checksCancel) cancelCheckedAt = clock.GetUtcNow();
                var cancelRequested = checksCancel ? history.IsCancelRequestedAsync(run, cancellationToken) : Task.FromResult(false);
                var page = await (prefetched ?? FetchPageAsync(next));
                prefetched = null;
                if (await cancelRequested)
                {
                    while (applying.Count > 0) await FinishOldestAsync();
                    await ImportFoundAsync(); // what it did is kept, its friends' properties included
                    return run with { Status = SyncRunStatus.Cancelled, FinishedAt = clock.GetUtcNow(), Cursor = null, Problem = "Cancelled by an administrator." };
                }
                var outOfTime = clock.GetUtcNow() >= deadline;
                // The next page is on its way while this one is applied (pages come back within the profiles endpoint's limit).
                if (page.Next is { } following && !outOfTime) prefetched = FetchPageAsync(following);
                applying.Enqueue((ApplyPageAsync(account, workspace?.DefaultRegion, page, resync, cancellationToken), page.Next));
                next = page.Next;
                while (applying.Count > PagesAppliedAtOnce || (applying.Count > 0 && (next is null || outOfTime))) await FinishOldestAsync();
                if (!cursor.PagesDone && outOfTime)
                {
                    await ImportFoundAsync();
                    return run; // saved by the caller; the continuation goes on from the next page
                }
            }
            if (resync && !cursor.ImportsAsItGoes) run = run.WithCount("importJobs", await bulkSync.StartAsync(account.WorkspaceId, account.Id, cancellationToken));
        }
        catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
        {
            // Paused, not failed: after reconnecting, the next scheduled pull goes on from the place last saved.
            await health.PauseIfRefusedAsync(account.WorkspaceId, $"Klaviyo {run.Kind}", e, cancellationToken);
            return saved with { Status = SyncRunStatus.Paused, Problem = "The Klaviyo connection needs reconnecting; this goes on from here once it is reconnected." };
        }
        finally
        {
            Forget(prefetched); // out of time, cancelled or failed: the continuation fetches that page again
            // Nothing goes on writing friends behind a run that stopped (and gave up its lease).
            await FinishQuietlyAsync(applying.Select(a => a.Page));
        }
        logger.LogInformation("Klaviyo {Kind} for account {AccountId} done: {Profiles} profiles, {Failures} failures", run.Kind, account.Id, run.Profiles, run.Failures);
        return run with { Status = SyncRunStatus.Completed, FinishedAt = clock.GetUtcNow(), Cursor = null, Problem = null };
    }

    private const int ProfilesPerPage = 100; // as KlaviyoClient asks for them
    /// <summary>The longest throttle a run waits out for a page (a minute window and a little), and how often it tries a page throttled; beyond, the queue tries again.</summary>
    private static readonly TimeSpan LongestThrottleWait = TimeSpan.FromSeconds(65);
    private const int ThrottledAttempts = 3;
    private static readonly TimeSpan ImportWithin = TimeSpan.FromSeconds(30);
    /// <summary>How often a pull saves its place, and a pull or resync reads a cancellation, after the invocation's first page.</summary>
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Pages applied at once: enough to keep Table storage busy while a page has only a fifth of its profiles linked, and
    /// through the pauses of this process (a garbage collection, a page or import job on its way). Measured on a resync of
    /// 100,000 friends: 4 pages reached 0.81 of the Azurite read floor, 8 pages 0.95.
    /// </summary>
    private const int PagesAppliedAtOnce = 8;

    /// <summary>A page's outcomes, and in a resync the linked friends it found, whose LINE properties it writes.</summary>
    private sealed record AppliedPage(List<(string Outcome, string? Failure)> Outcomes, List<LineFriend> Linked);

    private async Task<AppliedPage> ApplyPageAsync(LineAccount account, string? defaultRegion, KlaviyoPage<KlaviyoProfile> page, bool resync,
        CancellationToken cancellationToken)
    {
        var applied = new List<Applied>();
        await Parallel.ForEachAsync(page.Items, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (profile, ct) =>
        {
            var outcome = await RecordingFailureAsync(profile.Id, () => ApplyAsync(account, defaultRegion, profile, resync, ct));
            lock (applied) applied.Add(outcome);
        });
        var done = applied.Where(a => a.Fields is null).ToList();
        // The friends a page changes are written a hundred to a transaction (they share the account's partition): one
        // storage request instead of one per friend.
        foreach (var batch in applied.Where(a => a.Fields is not null).Select(a => a.Fields!).Chunk(LineFriendStore.MaxFriendsPerTransaction))
        {
            if (await friends.TrySetPulledFieldsAsync(batch.Select(f => f.Changed).ToList(), cancellationToken))
            {
                done.AddRange(batch.Select(f => new Applied("friendsUpdated", Linked: f.Read)));
                continue;
            }
            // One of them changed since it was read (a webhook, a link) or would not store, so nothing of the batch was
            // written: each is decided again on its own row.
            foreach (var fields in batch) done.Add(await RecordingFailureAsync(fields.ProfileId, () => WriteFieldsAsync(fields, cancellationToken)));
        }
        return new AppliedPage([.. done.Select(a => (a.Outcome, a.Failure))], resync ? [.. done.Select(a => a.Linked).OfType<LineFriend>().Where(f => f.IsLinked)] : []);
    }

    /// <summary>Waits for pages still being applied, whatever becomes of them: their profiles are read again from the saved place.</summary>
    private static async Task FinishQuietlyAsync(IEnumerable<Task> tasks)
    {
        try
        {
            await Task.WhenAll(tasks);
        }
        catch (Exception)
        {
            // Their failures change nothing: the run's place is before them.
        }
    }

    /// <summary>Saves the run, except a pull that found nothing changed: every 5 minutes, those would bury the history (the last pull that did find changes keeps the watermark, and reading from it again costs one empty page).</summary>
    private async Task SaveAsync(SyncRun run, CancellationToken cancellationToken)
    {
        if (run is { Kind: SyncKinds.KlaviyoPull, Status: SyncRunStatus.Completed, Profiles: 0 }) await history.DeleteAsync(run, cancellationToken);
        else await history.SaveAsync(run, cancellationToken);
    }

    // Whatever goes wrong with one profile (a value Table storage refuses, a link that cannot be written) is that
    // profile's failure, so one odd profile never stops every later pull on the same page. Refused credentials and
    // passing outages still stop the page: they pause it or let the queue try again.
    private static async Task<Applied> RecordingFailureAsync(string profileId, Func<Task<Applied>> apply)
    {
        try
        {
            return await apply();
        }
        catch (Azure.RequestFailedException e) when (e.Status is 400 or 413)
        {
            return new Applied("failed", $"{profileId}: the friend could not be stored ({e.ErrorCode ?? e.Status.ToString()}).");
        }
        catch (KlaviyoApiException e) when (!e.IsAuthenticationFailure && !e.IsTransient)
        {
            return new Applied("failed", $"{profileId}: Klaviyo answered {e.Status} {e.Code}: {e.Message}");
        }
    }

    /// <summary>
    /// A profile's outcome; with <c>Fields</c>, a friend's pulled fields still to be written with the rest of its page;
    /// with <c>Linked</c>, the friend linked to it, as last read or written.
    /// </summary>
    private sealed record Applied(string Outcome, string? Failure = null, PulledFields? Fields = null, LineFriend? Linked = null);

    /// <summary>A linked friend as read (its ETag), the profile it is linked to, the fields pulled for it, the profile version they come from, and the friend with them.</summary>
    private sealed record PulledFields(LineFriend Read, string ProfileId, Dictionary<string, string> Values, DateTimeOffset UpdatedAt)
    {
        public LineFriend Changed => OnTo(Read);

        /// <summary>The friend with these fields.</summary>
        public LineFriend OnTo(LineFriend friend) => friend with { KlaviyoFields = Values, KlaviyoFieldsUpdatedAt = UpdatedAt };

        /// <summary>
        /// What these fields do to the friend: a version of the profile it already has, an older one (a slow page), or a
        /// newer one with the same values changes nothing. The last is most pulls' usual case: any change to a profile,
        /// Lumo's own LINE properties included, makes it "updated", and writing the friend again would cost a storage
        /// write for nothing.
        /// </summary>
        public string Outcome(LineFriend friend) =>
            friend.KlaviyoFieldsUpdatedAt is { } at && at >= UpdatedAt ? (at == UpdatedAt ? "unchanged" : "olderIgnored")
            : friend.KlaviyoFields.Count == Values.Count && Values.All(v => friend.KlaviyoFields.TryGetValue(v.Key, out var held) && held == v.Value) ? "unchanged"
            : "friendsUpdated";
    }

    /// <summary>Observes a task nobody awaits any more (a page fetched ahead), so its failure is not left unobserved.</summary>
    internal static void Forget(Task? abandoned) => abandoned?.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);

    private async Task<Applied> ApplyAsync(LineAccount account, string? defaultRegion, KlaviyoProfile profile, bool resync,
        CancellationToken cancellationToken)
    {
        // A field that cannot be pulled is the profile's failure; a resync still writes the LINE properties of the
        // friend it is linked to (what a resync is for), a pull leaves it at that.
        async Task<Applied> FailedAsync(string failure) => new("failed", failure, Linked: resync ? await LinkedFriendAsync(await FindLinkAsync(account, profile, resync, cancellationToken)) : null);
        async Task<LineFriend?> LinkedFriendAsync((LineFriend? Named, string? UserId) link) =>
            link.Named ?? (link.UserId is { } id ? await friends.GetIfExistsAsync(account.WorkspaceId, account.Id, id, cancellationToken) : null);
        var fields = new Dictionary<string, string>();
        foreach (var name in account.PulledFields)
        {
            switch (profile.Field(name))
            {
                case null:
                    break;
                case JsonValue value:
                    var text = value.TryGetValue<string>(out var s) ? s : value.ToJsonString();
                    if (text.Length > MaxFieldLength) return await FailedAsync($"{profile.Id}: {name} is longer than {MaxFieldLength} characters.");
                    fields[name] = text;
                    break;
                case var other:
                    return await FailedAsync($"{profile.Id}: {name} is {(other is JsonArray ? "a list" : "an object")}; a friend field holds text, a number or true/false.");
            }
        }
        var pullsContact = account.PulledFields.Contains("email") || account.PulledFields.Contains("phone_number");
        var (email, phone, errors) = pullsContact
            ? ContactDetails.Normalise(fields.GetValueOrDefault("email"), fields.GetValueOrDefault("phone_number"), defaultRegion)
            : (null, null, []);
        if (errors.Count > 0) return await FailedAsync($"{profile.Id}: {string.Join(" ", errors.SelectMany(e => e.Value))}");

        var (friend, userId) = await FindLinkAsync(account, profile, resync, cancellationToken);
        string? linkedNow = null;
        if (userId is null && resync && await RelinkAsync(account, profile, cancellationToken) is { } relinked)
            (userId, linkedNow) = (relinked, "relinked");
        if (userId is null && pullsContact && (email is not null || phone is not null) && await AutoLinkAsync(account, profile, email, phone, resync, cancellationToken) is { } autoLinked)
            (userId, linkedNow) = (autoLinked, "autoLinked");
        if (userId is null) return new Applied("notLinked");
        if (account.PulledFields.Count == 0)
            return new Applied(linkedNow ?? "linked", Linked: resync ? await LinkedFriendAsync((linkedNow is null ? friend : null, userId)) : null);
        var updatedAt = profile.Updated ?? clock.GetUtcNow();
        var setsContact = pullsContact && (email is not null || phone is not null);
        if (friend is not null && linkedNow is null && !setsContact)
        {
            // The usual case: the friend just read is written with the rest of the page, unless this changes nothing.
            var pulled = new PulledFields(friend, profile.Id, fields, updatedAt);
            var outcome = pulled.Outcome(friend);
            return new Applied(outcome, Fields: outcome == "friendsUpdated" ? pulled : null, Linked: friend);
        }
        var written = await WriteFieldsAsync(new PulledFields(friend ?? new LineFriend { WorkspaceId = account.WorkspaceId, AccountId = account.Id, UserId = userId }, profile.Id, fields, updatedAt),
            cancellationToken, reread: friend is null || linkedNow is not null);
        if (written.Outcome == "friendsUpdated" && setsContact)
            await friends.SetContactAsync(account.WorkspaceId, account.Id, userId, email, phone, cancellationToken);
        return written with { Outcome = linkedNow ?? written.Outcome };
    }

    // Lumo writes this account's LINE User ID with every link, so the friend a profile names is read to confirm the
    // link (in a pull, profiles naming none cost no storage at all); a resync also looks up the link of every other
    // profile, for links whose property went missing in Klaviyo. The friend is returned when it was read.
    private async Task<(LineFriend? Named, string? UserId)> FindLinkAsync(LineAccount account, KlaviyoProfile profile, bool resync, CancellationToken cancellationToken)
    {
        LineFriend? named = null;
        if (profile.TextProperty(account.PropertyNames.UserId) is { } id && Ids.IsLineUserId(id))
            named = await friends.GetIfExistsAsync(account.WorkspaceId, account.Id, id, cancellationToken) is { } f && f.KlaviyoProfileId == profile.Id ? f : null;
        return (named, named?.UserId ?? (resync ? await friends.FindLinkedUserAsync(account.WorkspaceId, account.Id, profile.Id, cancellationToken) : null));
    }

    /// <summary>Writes a friend's pulled fields on its row as it now stands (from the row read, or read afresh), unless that row already has them or newer.</summary>
    private async Task<Applied> WriteFieldsAsync(PulledFields fields, CancellationToken cancellationToken, bool reread = false)
    {
        var outcome = "friendsUpdated";
        LineFriend Change(LineFriend f)
        {
            // Unlinked or erased since it was read (the row read afresh names no longer this profile): not this profile's friend.
            outcome = f.KlaviyoProfileId != fields.ProfileId ? "notLinked" : fields.Outcome(f);
            return outcome == "friendsUpdated" ? fields.OnTo(f) : f;
        }
        var read = fields.Read;
        var written = reread
            ? await friends.UpdateAsync(read.WorkspaceId, read.AccountId, read.UserId, Change, cancellationToken)
            : await friends.UpdateAsync(read, Change, cancellationToken, saveUnchanged: false);
        return new Applied(outcome, Linked: outcome == "notLinked" ? null : written);
    }

    // Re-integration: the profile still carries this account's LINE User ID of a friend Lumo knows, so the link is made
    // again. Its properties are written with the rest of its page's linked friends, in the resync's next import job.
    private async Task<string?> RelinkAsync(LineAccount account, KlaviyoProfile profile, CancellationToken cancellationToken)
    {
        if (profile.TextProperty(account.PropertyNames.UserId) is not { } userId || !Ids.IsLineUserId(userId)) return null;
        if (await friends.GetIfExistsAsync(account.WorkspaceId, account.Id, userId, cancellationToken) is not { IsLinked: false } friend) return null;
        var result = await linking.LinkAsync(account, userId, profile.Id, LinkMethods.Resync, friend.DisplayName, cancellationToken, pushProperties: false);
        return result.Outcome == LinkWriteOutcome.Linked ? userId : null;
    }

    // Unlinked friends whose contact details match the profile's: a friend with both email and phone needs both to match.
    // A resync writes the properties of the linked friends it finds in bulk import jobs, so it does not write them one by one here.
    private async Task<string?> AutoLinkAsync(LineAccount account, KlaviyoProfile profile, string? email, string? phone, bool resync, CancellationToken cancellationToken)
    {
        var candidates = new Dictionary<string, LineFriend>();
        foreach (var (byEmail, byPhone) in new[] { (email, (string?)null), (null, phone) }.Where(c => c.Item1 is not null || c.Item2 is not null))
            foreach (var friend in await friends.FindByContactAsync(account.WorkspaceId, account.Id, byEmail, byPhone, cancellationToken))
                candidates[friend.UserId] = friend;
        var matching = candidates.Values.Where(f => !f.IsLinked && (f.Email is null || f.Email == email) && (f.PhoneNumber is null || f.PhoneNumber == phone)).ToList();
        if (matching.Count != 1) return null; // none, or several friends for one profile: an administrator decides
        var result = await linking.LinkAsync(account, matching[0].UserId, profile.Id, LinkMethods.AutoSyncedData, matching[0].DisplayName, cancellationToken, pushProperties: !resync);
        return result.Outcome == LinkWriteOutcome.Linked ? matching[0].UserId : null;
    }
}
