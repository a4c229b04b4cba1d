using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Line;
using Lumo.Core.Storage;
using Lumo.Core.Tracking;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Broadcasts;

/// <summary>Queue message: send one chunk of a broadcast.</summary>
public sealed record BroadcastChunkRequest(string WorkspaceId, string AccountId, string BroadcastId, int Chunk);

/// <summary>
/// Sends one chunk of a broadcast exactly once: a multicast to its fixed recipients under the chunk's deterministic
/// retry key (a repeat after a crash is answered 409 by LINE and counts as sent), then <c>Sent</c> and
/// <c>Delivered LINE Message</c> for its linked recipients through the outbox, then the chunk marked sent. Before
/// sending, the remaining monthly quota is checked; a chunk that does not fit, or LINE's quota 429, pauses the whole
/// broadcast (no retries: only next month or a bigger plan helps). LINE's rate limit is waited out in the queue.
/// </summary>
public sealed class BroadcastChunkSender(BroadcastStore broadcasts, WorkspaceStore workspaces, LineMessagingClient line, KlaviyoEventRecorder events,
    LineSendStore lineSends, SendTracking tracking, LumoQueues queues, TimeProvider clock, ILogger<BroadcastChunkSender> logger)
{
    /// <summary>LINE keeps a retry key for 24 hours; a chunk first attempted longer ago than this is not sent again blindly.</summary>
    public static readonly TimeSpan RetryKeyHorizon = TimeSpan.FromHours(23);

    /// <summary>How long an attempt keeps other copies of its message off the chunk; well inside the queue's visibility lease.</summary>
    public static readonly TimeSpan AttemptLease = TimeSpan.FromMinutes(2);

    public async Task<string> SendAsync(BroadcastChunkRequest request, CancellationToken cancellationToken)
    {
        var broadcast = await broadcasts.GetIfExistsAsync(request.WorkspaceId, request.AccountId, request.BroadcastId, cancellationToken);
        if (broadcast is null) return "broadcast is gone";
        var chunk = await broadcasts.GetChunkIfExistsAsync(broadcast, request.Chunk, cancellationToken);
        if (chunk is null) return "chunk is gone";
        if (chunk.Status != ChunkStatus.Pending)
        {
            // The attempt that finished it may have died before completing the broadcast.
            if (broadcast.Status == BroadcastStatus.Sending) await broadcasts.CompleteIfDoneAsync(broadcast, clock.GetUtcNow(), cancellationToken);
            return $"chunk is {chunk.Status}";
        }
        // A chunk an earlier attempt may have sent is settled even while the broadcast is paused (its retry key tells);
        // otherwise a paused or cancelled broadcast sends nothing more, and a resume queues the pending chunks again.
        var outcomeUnknown = chunk.FirstAttemptAt is not null;
        if (broadcast.Status != BroadcastStatus.Sending && !(broadcast.Status == BroadcastStatus.Paused && outcomeUnknown))
            return $"broadcast is {broadcast.Status}";
        var account = await workspaces.GetAccountCachedAsync(broadcast.WorkspaceId, broadcast.AccountId, cancellationToken);
        if (account is null) return "the LINE account was removed";
        var lineAccount = new LineAccountRef(broadcast.WorkspaceId, broadcast.AccountId);

        var now = clock.GetUtcNow();
        if (chunk.AttemptUntil > now)
        {
            // Another attempt holds the chunk (the runner may queue a chunk twice, and a failed attempt's message comes
            // back within seconds): look again once its hold has run out, so a dead holder's chunk is not dropped.
            await queues.EnqueueAsync(QueueNames.BroadcastChunks, request, cancellationToken, chunk.AttemptUntil.Value - now + TimeSpan.FromSeconds(1));
            return "chunk held by another attempt: looking again after its hold";
        }
        if (outcomeUnknown && now - chunk.FirstAttemptAt > RetryKeyHorizon)
        {
            // LINE no longer remembers the key: whether the first attempt reached LINE is unknown, and sending again
            // could send twice. Left for the admin to see; never guessed.
            return await FinishAsync(broadcast, chunk with { Status = ChunkStatus.Failed, Reason = "not confirmed within LINE's 24-hour retry-key window; not sent again to avoid a duplicate" },
                null, cancellationToken);
        }
        // Checked before the chunk is claimed, so a chunk paused here is not taken for one LINE may have seen. A chunk
        // of unknown outcome skips it: its first attempt may already have used the quota for these recipients.
        var toReach = chunk.UserIds.Count - chunk.Done.Count;
        if (!outcomeUnknown && !broadcast.ToEveryFriend && await line.GetRemainingQuotaAsync(lineAccount, cancellationToken) is { } remaining && remaining < toReach)
        {
            await PauseAsync(broadcast, $"The monthly message quota has {remaining} messages left; the next chunk has {toReach} recipients.", cancellationToken);
            return "paused: quota";
        }
        var before = chunk.FirstAttemptAt;
        chunk = await broadcasts.TryUpdateChunkAsync(broadcast, chunk with { FirstAttemptAt = before ?? now, AttemptUntil = now + AttemptLease }, cancellationToken);
        if (chunk is null) return "chunk taken by another attempt";
        var released = false;
        try
        {
            if (broadcast.Tracked) return await SendTrackedAsync(broadcast, chunk, account, lineAccount, request, before, cancellationToken);
            string? requestId = broadcast.LineRequestId;
            if (!broadcast.ToEveryFriend)
            {
                try
                {
                    requestId = (await line.MulticastAsync(lineAccount, chunk.UserIds, broadcast.Messages, broadcast.RetryKeyOf(chunk.Number), cancellationToken)).RequestId;
                }
                catch (LineApiException e) when (e.IsMonthlyQuotaUsedUp)
                {
                    // LINE refused this request: the chunk is as it was before the claim (so it may wait past a key's 24 hours).
                    released = true;
                    await ReleaseAsync(broadcast, chunk, before);
                    await PauseAsync(broadcast, "LINE's monthly message quota is used up.", cancellationToken);
                    return "paused: quota";
                }
                catch (LineApiException e) when (e.Status == 429)
                {
                    released = true;
                    await ReleaseAsync(broadcast, chunk, before);
                    await queues.EnqueueAsync(QueueNames.BroadcastChunks, request, cancellationToken, e.RetryAfter ?? TimeSpan.FromSeconds(1));
                    return "rate limited: queued again";
                }
                catch (LineApiException e) when (!e.IsTransient)
                {
                    return await FinishAsync(broadcast, chunk with { Status = ChunkStatus.Failed, AttemptUntil = null, Reason = $"LINE refused the multicast: {e.Status} {e.Message} {string.Join("; ", e.Details)}".Trim() },
                        account, cancellationToken);
                }
            }
            return await FinishAsync(broadcast, chunk with { Status = ChunkStatus.Sent, AttemptUntil = null, LineRequestId = requestId, SentAt = clock.GetUtcNow() }, account, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // LINE did not answer, or recording the outcome failed: the outcome is unknown (FirstAttemptAt stays), and
            // the queue's retry may go on at once instead of waiting out this attempt's hold.
            if (!released) await ReleaseAsync(broadcast, chunk, chunk.FirstAttemptAt);
            throw;
        }
    }

    // Best effort: if it fails too, the hold simply runs out (AttemptLease) and the retry looks again after it.
    private async Task ReleaseAsync(Broadcast broadcast, BroadcastChunk chunk, DateTimeOffset? firstAttemptAt)
    {
        try { await broadcasts.TryUpdateChunkAsync(broadcast, chunk with { AttemptUntil = null, FirstAttemptAt = firstAttemptAt }, CancellationToken.None); }
        catch (Exception e) { logger.LogWarning(e, "Releasing chunk {Chunk} of broadcast {BroadcastId} failed; its hold runs out by itself", chunk.Number, broadcast.Id); }
    }

    // Records the chunk's Klaviyo events (before the chunk is marked, so a crash in between repeats them under the
    // same unique ids rather than losing them; none without an account, or when the caller recorded them per
    // recipient), marks the chunk, and completes the broadcast after its last chunk.
    private async Task<string> FinishAsync(Broadcast broadcast, BroadcastChunk chunk, LineAccount? account, CancellationToken cancellationToken)
    {
        if (account is not null)
            await events.RecordManyAsync(broadcast.WorkspaceId, EventsOf(broadcast, chunk, account, Enumerable.Range(0, chunk.UserIds.Count), chunk.Status == ChunkStatus.Sent, chunk.Reason),
                cancellationToken);
        if (await broadcasts.TryUpdateChunkAsync(broadcast, chunk, cancellationToken) is null)
            logger.LogInformation("Chunk {Chunk} of broadcast {BroadcastId} was finished by another attempt", chunk.Number, broadcast.Id);
        await broadcasts.CompleteIfDoneAsync(broadcast, clock.GetUtcNow(), cancellationToken);
        return $"chunk {chunk.Number}: {chunk.Status} ({chunk.UserIds.Count} recipients)";
    }

    // Sent and Delivered (or Failed, with the reason) for the linked recipients at the given positions of the chunk.
    private List<KlaviyoEvent> EventsOf(Broadcast broadcast, BroadcastChunk chunk, LineAccount account, IEnumerable<int> positions, bool sent, string? reason)
    {
        var metrics = sent ? new[] { KlaviyoMetrics.SentLineMessage, KlaviyoMetrics.DeliveredLineMessage } : [KlaviyoMetrics.FailedLineMessage];
        var at = chunk.SentAt ?? clock.GetUtcNow();
        var result = new List<KlaviyoEvent>();
        foreach (var i in positions)
        {
            if (chunk.ProfileIds[i] is not { } profileId) continue; // events are for ID-linked friends only
            foreach (var metric in metrics)
            {
                var properties = new JsonObject
                {
                    ["Source"] = Source,
                    ["Broadcast"] = broadcast.Name,
                    ["Broadcast ID"] = broadcast.Id,
                    ["Message"] = broadcast.MessageRef,
                    ["LINE Official Account"] = account.BasicId ?? account.ChannelId,
                    [account.PropertyNames.UserId] = chunk.UserIds[i],
                };
                if (reason is not null) properties["Reason"] = reason;
                result.Add(new KlaviyoEvent(broadcast.WorkspaceId, profileId, metric, $"broadcast:{broadcast.Id}:{chunk.UserIds[i]}:{metric}", at, properties));
            }
        }
        return result;
    }

    /// <summary>The source named on broadcast sends, their UTM medium and their Klaviyo events.</summary>
    public const string Source = "broadcast";
    private const int ParallelPushes = 16;

    /// <summary>
    /// A tracked chunk: a push per recipient, each recorded first as a send of its own (its tracking URLs lead back to
    /// it) with its own deterministic retry key. Recipients pushed (or refused for good) are kept in
    /// <see cref="BroadcastChunk.Done"/>, so a chunk stopped by the quota or the rate limit goes on with the rest only,
    /// at any later time: the others' keys were never accepted. One that got no answer keeps the chunk's outcome
    /// unknown until a retry (within LINE's 24 hours) settles it.
    /// </summary>
    private async Task<string> SendTrackedAsync(Broadcast broadcast, BroadcastChunk chunk, LineAccount account, LineAccountRef lineAccount, BroadcastChunkRequest request,
        DateTimeOffset? before, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var sends = await Task.WhenAll(chunk.PendingPositions.Select(async i => (Position: i, Send: await tracking.TrackAsync(
            new LineSend
            {
                WorkspaceId = broadcast.WorkspaceId, Id = LineSend.IdOf(broadcast.WorkspaceId, broadcast.AccountId, "broadcast:" + broadcast.Id, chunk.UserIds[i]),
                AccountId = broadcast.AccountId, Recipient = chunk.UserIds[i], ProfileId = chunk.ProfileIds[i], Source = Source, MessageRef = broadcast.MessageRef,
                Messages = broadcast.Messages, Status = SendStatus.Queued, KeySource = "broadcast", CreatedAt = now, UpdatedAt = now,
            }, broadcast.Name, broadcast.Utm, cancellationToken))));
        // Recorded before they are pushed: a tracking URL tapped at once must find its send.
        await lineSends.SaveManyAsync(sends.Select(s => s.Send).ToList(), cancellationToken);

        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<int, LineSend>();
        LineApiException? stoppedBy = null;
        var unknown = false;
        // Well inside the attempt's hold, so no other copy of the message takes the chunk while this one pushes.
        var deadline = now + AttemptLease / 2;
        await Parallel.ForEachAsync(sends, new ParallelOptions { MaxDegreeOfParallelism = ParallelPushes, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            if (Volatile.Read(ref stoppedBy) is not null) return;
            if (clock.GetUtcNow() > deadline)
            {
                Interlocked.CompareExchange(ref stoppedBy, new LineApiException(429, "Lumo's own time limit per attempt: the chunk goes on in a new message", retryAfter: TimeSpan.Zero), null);
                return;
            }
            try
            {
                var pushed = await line.PushMessageAsync(lineAccount, new LinePush(item.Send.Recipient, item.Send.Messages.Select(m => m!.AsObject()).ToList()), item.Send.RetryKey, ct);
                outcomes[item.Position] = item.Send with { Status = SendStatus.Sent, LineRequestId = pushed.RequestId, UpdatedAt = clock.GetUtcNow() };
            }
            catch (LineApiException e) when (e.Status == 429 || e.IsTransient)
            {
                if (e.Status != 429) unknown = true; // no answer: LINE may have taken it
                Interlocked.CompareExchange(ref stoppedBy, e, null);
            }
            catch (LineApiException e)
            {
                outcomes[item.Position] = item.Send with { Status = SendStatus.Failed, Reason = $"LINE refused the message: {e.Status} {e.Message}".Trim(), UpdatedAt = clock.GetUtcNow() };
            }
        });

        // What went through is recorded (events first: a crash repeats them under the same unique ids), then the chunk.
        var sentNow = outcomes.Where(o => o.Value.Status == SendStatus.Sent).Select(o => o.Key).ToList();
        var failedNow = outcomes.Where(o => o.Value.Status == SendStatus.Failed).Select(o => o.Key).ToList();
        var at = chunk with { SentAt = clock.GetUtcNow() };
        await events.RecordManyAsync(broadcast.WorkspaceId, [.. EventsOf(broadcast, at, account, sentNow, true, null), .. EventsOf(broadcast, at, account, failedNow, false, "LINE refused the message")],
            cancellationToken);
        await lineSends.SaveManyAsync(outcomes.Values.ToList(), cancellationToken);
        var done = chunk.Done.Concat(outcomes.Keys).ToHashSet();
        if (stoppedBy is null)
            return await FinishAsync(broadcast, chunk with { Status = ChunkStatus.Sent, Done = done, AttemptUntil = null, SentAt = at.SentAt }, null, cancellationToken); // events recorded above

        // Stopped part-way: the rest were refused (not accepted under their keys), unless LINE did not answer now or
        // in an earlier attempt (whose time then stays, for the 24-hour horizon).
        var keepUnknown = unknown || before is not null;
        await SaveProgressAsync(broadcast, chunk, done, keepUnknown ? chunk.FirstAttemptAt : null, cancellationToken);
        if (stoppedBy.IsMonthlyQuotaUsedUp)
        {
            await PauseAsync(broadcast, "LINE's monthly message quota is used up.", cancellationToken);
            return $"paused: quota ({done.Count} of {chunk.UserIds.Count} in the chunk reached)";
        }
        if (stoppedBy.Status == 429)
        {
            await queues.EnqueueAsync(QueueNames.BroadcastChunks, request, cancellationToken, stoppedBy.RetryAfter ?? TimeSpan.FromSeconds(1));
            return $"rate limited: queued again ({done.Count} of {chunk.UserIds.Count} in the chunk reached)";
        }
        throw stoppedBy; // no answer: the queue retries the rest
    }

    // Saves who was reached; if another attempt changed the chunk meanwhile, its reached recipients are kept too.
    private async Task SaveProgressAsync(Broadcast broadcast, BroadcastChunk chunk, HashSet<int> done, DateTimeOffset? firstAttemptAt, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await broadcasts.TryUpdateChunkAsync(broadcast, chunk with { Done = done, AttemptUntil = null, FirstAttemptAt = firstAttemptAt }, cancellationToken) is not null) return;
            if (await broadcasts.GetChunkIfExistsAsync(broadcast, chunk.Number, cancellationToken) is not { Status: ChunkStatus.Pending } current) return;
            (chunk, done) = (current, [.. done, .. current.Done]);
            firstAttemptAt ??= current.FirstAttemptAt;
        }
    }

    private async Task PauseAsync(Broadcast broadcast, string why, CancellationToken cancellationToken)
    {
        logger.LogWarning("Broadcast {BroadcastId} paused: {Why}", broadcast.Id, why);
        var reason = why + " The remaining recipients are listed under the broadcast; resume next month or after raising the plan's limit.";
        await broadcasts.MoveAsync(broadcast, b => b with { Status = BroadcastStatus.Paused, Reason = reason }, cancellationToken);
    }
}
