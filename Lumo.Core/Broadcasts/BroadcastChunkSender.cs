using System.Text.Json.Nodes;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Line;
using Lumo.Core.Storage;
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
    LumoQueues queues, TimeProvider clock, ILogger<BroadcastChunkSender> logger)
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
            if (broadcast.Status == BroadcastStatus.Sending) await BroadcastRunner.CompleteIfDoneAsync(broadcasts, broadcast, clock, cancellationToken);
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
        if (!outcomeUnknown && !broadcast.ToEveryFriend && await line.GetRemainingQuotaAsync(lineAccount, cancellationToken) is { } remaining && remaining < chunk.UserIds.Count)
        {
            await PauseAsync(broadcast, $"The monthly message quota has {remaining} messages left; the next chunk has {chunk.UserIds.Count} recipients.", cancellationToken);
            return "paused: quota";
        }
        var before = chunk.FirstAttemptAt;
        chunk = await broadcasts.TryUpdateChunkAsync(broadcast, chunk with { FirstAttemptAt = before ?? now, AttemptUntil = now + AttemptLease }, cancellationToken);
        if (chunk is null) return "chunk taken by another attempt";
        try
        {
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
                    await ReleaseAsync(broadcast, chunk, before);
                    await PauseAsync(broadcast, "LINE's monthly message quota is used up.", cancellationToken);
                    return "paused: quota";
                }
                catch (LineApiException e) when (e.Status == 429)
                {
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
            await ReleaseAsync(broadcast, chunk, chunk.FirstAttemptAt);
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
    // same unique ids rather than losing them), marks the chunk, and completes the broadcast after its last chunk.
    private async Task<string> FinishAsync(Broadcast broadcast, BroadcastChunk chunk, LineAccount? account, CancellationToken cancellationToken)
    {
        if (account is not null) await events.RecordManyAsync(broadcast.WorkspaceId, EventsOf(broadcast, chunk, account), cancellationToken);
        if (await broadcasts.TryUpdateChunkAsync(broadcast, chunk, cancellationToken) is null)
            logger.LogInformation("Chunk {Chunk} of broadcast {BroadcastId} was finished by another attempt", chunk.Number, broadcast.Id);
        await BroadcastRunner.CompleteIfDoneAsync(broadcasts, broadcast, clock, cancellationToken);
        return $"chunk {chunk.Number}: {chunk.Status} ({chunk.UserIds.Count} recipients)";
    }

    private List<KlaviyoEvent> EventsOf(Broadcast broadcast, BroadcastChunk chunk, LineAccount account)
    {
        var metrics = chunk.Status == ChunkStatus.Sent ? new[] { KlaviyoMetrics.SentLineMessage, KlaviyoMetrics.DeliveredLineMessage } : [KlaviyoMetrics.FailedLineMessage];
        var at = chunk.SentAt ?? clock.GetUtcNow();
        var result = new List<KlaviyoEvent>();
        for (var i = 0; i < chunk.UserIds.Count; i++)
        {
            if (chunk.ProfileIds[i] is not { } profileId) continue; // events are for ID-linked friends only
            foreach (var metric in metrics)
            {
                var properties = new JsonObject
                {
                    ["Source"] = "broadcast",
                    ["Broadcast"] = broadcast.Name,
                    ["Broadcast ID"] = broadcast.Id,
                    ["Message"] = broadcast.MessageRef,
                    ["LINE Official Account"] = account.BasicId ?? account.ChannelId,
                    [account.PropertyNames.UserId] = chunk.UserIds[i],
                };
                if (chunk.Reason is not null) properties["Reason"] = chunk.Reason;
                result.Add(new KlaviyoEvent(broadcast.WorkspaceId, profileId, metric, $"broadcast:{broadcast.Id}:{chunk.UserIds[i]}:{metric}", at, properties));
            }
        }
        return result;
    }

    private async Task PauseAsync(Broadcast broadcast, string why, CancellationToken cancellationToken)
    {
        logger.LogWarning("Broadcast {BroadcastId} paused: {Why}", broadcast.Id, why);
        await BroadcastRunner.PauseAsync(broadcasts, broadcast, why + " The remaining recipients are listed under the broadcast; resume next month or after raising the plan's limit.",
            cancellationToken);
    }
}
