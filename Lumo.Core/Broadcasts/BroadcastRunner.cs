using Lumo.Core.Http;
using Lumo.Core.Line;
using Lumo.Core.Segments;
using Lumo.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Broadcasts;

/// <summary>Queue message: start (or go on with) a broadcast.</summary>
public sealed record BroadcastRequest(string WorkspaceId, string AccountId, string BroadcastId);

/// <summary>
/// Takes a broadcast from Scheduled to Sending: evaluates its audience now (blocked friends left out), fixes the
/// recipients in chunks of 500 before anything is sent, checks them against LINE's remaining monthly quota, and hands
/// each chunk to the queue (<see cref="BroadcastChunkSender"/>). Every step moves the status over the row's ETag, so a
/// repeated or concurrent request changes nothing a first one did; a restart goes on from the status it finds
/// (preparation is redone from scratch, as nothing was sent before the status says Sending).
/// </summary>
public sealed class BroadcastRunner(BroadcastStore broadcasts, SegmentStore segments, SegmentEvaluator evaluator, LeaseStore leases,
    LineMessagingClient line, LumoQueues queues, TimeProvider clock, ILogger<BroadcastRunner> logger)
{
    public const int ChunkSize = LineMessagingClient.MaxMulticastRecipients;
    private const int ChunksPerWrite = 40;
    private const int ParallelChunkWrites = 4;
    private const int ParallelEnqueues = 16;

    public async Task<Broadcast?> RunAsync(BroadcastRequest request, CancellationToken cancellationToken)
    {
        var broadcast = await broadcasts.GetIfExistsAsync(request.WorkspaceId, request.AccountId, request.BroadcastId, cancellationToken);
        if (broadcast is { Status: BroadcastStatus.Scheduled } && broadcast.ScheduledAt > clock.GetUtcNow()) return broadcast; // the timer queues it when due
        if (broadcast is { Status: BroadcastStatus.Scheduled or BroadcastStatus.Preparing })
        {
            // One preparer at a time (a send-now request and the timer may both queue it); a crashed one's lease
            // runs out within PreparationLease and the next request (a queue retry or the timer) takes over.
            await using var lease = await leases.HoldAsync("broadcast-preparation", $"{AccountPartition.Of(broadcast.WorkspaceId, broadcast.AccountId)}:{broadcast.Id}",
                Guid.NewGuid().ToString("N"), PreparationLease, cancellationToken);
            if (lease is null) return broadcast;
            using var held = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Lost);
            broadcast = await broadcasts.GetIfExistsAsync(request.WorkspaceId, request.AccountId, request.BroadcastId, held.Token);
            if (broadcast is { Status: BroadcastStatus.Scheduled or BroadcastStatus.Preparing })
                broadcast = await PrepareAsync(broadcast, held.Token);
        }
        if (broadcast is { Status: BroadcastStatus.Sending }) broadcast = await DispatchAsync(broadcast, cancellationToken);
        return broadcast;
    }

    /// <summary>How long a preparer that stopped renewing (crashed) keeps others out.</summary>
    public static readonly TimeSpan PreparationLease = TimeSpan.FromSeconds(30);

    /// <summary>Preparations that failed (Klaviyo or LINE not answering) before the broadcast is refused instead of tried again.</summary>
    public const int MaxPreparationAttempts = 10;

    // The preparation claims the broadcast with a new preparation id (its chunks live under that id), and every later
    // move is made over the claim's ETag: a preparer that lost its lease and carries on writes only chunks nobody
    // reads, and cannot move the broadcast on.
    private async Task<Broadcast?> PrepareAsync(Broadcast broadcast, CancellationToken cancellationToken)
    {
        if (broadcast.PreparationAttempts >= MaxPreparationAttempts)
            return await RefuseAsync(broadcast, $"It could not be prepared in {MaxPreparationAttempts} attempts: {broadcast.Reason ?? "Klaviyo or LINE did not answer"}", cancellationToken);
        var claimed = await broadcasts.TryUpdateAsync(broadcast with
        {
            Status = BroadcastStatus.Preparing, StartedAt = broadcast.StartedAt ?? clock.GetUtcNow(), PreparationId = Guid.NewGuid().ToString("N")[..12],
            PreparationAttempts = broadcast.PreparationAttempts + 1,
        }, cancellationToken);
        if (claimed is null) return await broadcasts.GetIfExistsAsync(broadcast.WorkspaceId, broadcast.AccountId, broadcast.Id, cancellationToken);
        try
        {
            return await PrepareClaimedAsync(claimed, cancellationToken);
        }
        catch (VendorApiException e) when (!e.IsTransient)
        {
            return await RefuseAsync(claimed, $"It could not be prepared: {e.Message} ({e.Status})", cancellationToken);
        }
        catch (Exception e) when (e is VendorApiException or Azure.RequestFailedException)
        {
            // Tried again by the schedule timer a minute later (so an outage of minutes is ridden out), up to
            // MaxPreparationAttempts; the reason shows on the broadcast meanwhile.
            logger.LogWarning(e, "Preparing broadcast {BroadcastId} failed (attempt {Attempt})", claimed.Id, claimed.PreparationAttempts);
            return await broadcasts.TryUpdateAsync(claimed with { Reason = $"preparation attempt {claimed.PreparationAttempts} failed: {e.Message}" }, CancellationToken.None)
                   ?? claimed;
        }
    }

    private async Task<Broadcast?> PrepareClaimedAsync(Broadcast broadcast, CancellationToken cancellationToken)
    {
        SegmentCondition? rule = null;
        if (!broadcast.ToEveryFriend)
        {
            var segment = await segments.GetIfExistsAsync(broadcast.WorkspaceId, broadcast.AccountId, broadcast.SegmentId!, cancellationToken);
            if (segment is null) return await RefuseAsync(broadcast, "The segment was deleted before the broadcast started.", cancellationToken);
            rule = segment.Conditions;
        }

        var (chunkCount, targeted, blocked) = (0, 0, 0);
        var pending = new List<SegmentMember>(ChunkSize);
        var ready = new List<BroadcastChunk>(ChunksPerWrite);
        var writes = new Queue<Task>();
        async Task TakeFullChunksAsync(bool all)
        {
            while (pending.Count >= ChunkSize || (all && pending.Count > 0))
            {
                var members = pending.Take(ChunkSize).ToList();
                pending.RemoveRange(0, members.Count);
                ready.Add(new BroadcastChunk { Number = chunkCount++, UserIds = members.Select(m => m.UserId).ToList(), ProfileIds = members.Select(m => m.ProfileId).ToList() });
            }
            if (ready.Count >= ChunksPerWrite || (all && ready.Count > 0))
            {
                // Written while the scan goes on, a few batches at a time.
                writes.Enqueue(broadcasts.WriteChunksAsync(broadcast, [.. ready], cancellationToken));
                ready.Clear();
                if (writes.Count >= ParallelChunkWrites) await writes.Dequeue();
            }
            if (all) while (writes.Count > 0) await writes.Dequeue();
        }

        SegmentEvaluation evaluation;
        try
        {
            evaluation = await evaluator.EvaluateAsync(broadcast.WorkspaceId, broadcast.AccountId, rule, async members =>
            {
                foreach (var member in members)
                {
                    if (member.Blocked) blocked++;
                    else { pending.Add(member); targeted++; }
                }
                await TakeFullChunksAsync(all: false);
            }, cancellationToken);
        }
        catch (SegmentEvaluationException e)
        {
            return await RefuseAsync(broadcast, e.Message, cancellationToken);
        }
        await TakeFullChunksAsync(all: true);
        if (!broadcast.ToEveryFriend)
            await segments.SaveEvaluationAsync(broadcast.WorkspaceId, broadcast.AccountId, broadcast.SegmentId!, evaluation, cancellationToken);

        var remaining = await line.GetRemainingQuotaAsync(new LineAccountRef(broadcast.WorkspaceId, broadcast.AccountId), cancellationToken);
        if (remaining < targeted && !broadcast.AllowPartialSend)
            return await RefuseAsync(broadcast with { Targeted = targeted, SkippedBlocked = blocked, Chunks = chunkCount },
                $"The broadcast needs {targeted} messages and the LINE Official Account has {remaining} left this month. Raise the plan's limit, " +
                "or allow a partial send to send as many as fit and resume the rest later.", cancellationToken);
        logger.LogInformation("Broadcast {BroadcastId} prepared: {Targeted} recipients in {Chunks} chunks, {Blocked} blocked friends left out",
            broadcast.Id, targeted, chunkCount, blocked);
        return await MoveFromClaimAsync(broadcast, broadcast with { Status = BroadcastStatus.Sending, Targeted = targeted, SkippedBlocked = blocked, Chunks = chunkCount, Reason = null },
            cancellationToken);
    }

    // Only the holder of the claim (the ETag it was read with) moves the broadcast; anyone else finds it as it stands.
    private async Task<Broadcast?> MoveFromClaimAsync(Broadcast claimed, Broadcast moved, CancellationToken cancellationToken) =>
        await broadcasts.TryUpdateAsync(moved, cancellationToken)
        ?? await broadcasts.GetIfExistsAsync(claimed.WorkspaceId, claimed.AccountId, claimed.Id, cancellationToken);

    // Every friend: one broadcast request to LINE (then the chunks only record the Klaviyo events). A segment: the
    // chunks' multicasts. Either way, every chunk not sent yet goes to the queue.
    private async Task<Broadcast?> DispatchAsync(Broadcast broadcast, CancellationToken cancellationToken)
    {
        if (broadcast.ToEveryFriend && broadcast.LineRequestId is null && broadcast.Targeted > 0)
        {
            LinePushResult sent;
            try
            {
                sent = await line.BroadcastAsync(new LineAccountRef(broadcast.WorkspaceId, broadcast.AccountId), broadcast.Messages, broadcast.RetryKeyOf(-1), cancellationToken);
            }
            catch (LineApiException e) when (e.IsMonthlyQuotaUsedUp)
            {
                return await broadcasts.MoveAsync(broadcast, b => b with { Status = BroadcastStatus.Paused, Reason = "LINE's monthly message quota is used up. Resume next month or after raising the plan's limit." },
                    cancellationToken);
            }
            catch (LineApiException e) when (e.Status == 429)
            {
                // Broadcast requests are limited to 60 an hour per channel: wait LINE's turn, not a failure.
                await queues.EnqueueAsync(QueueNames.Broadcasts, new BroadcastRequest(broadcast.WorkspaceId, broadcast.AccountId, broadcast.Id), cancellationToken,
                    e.RetryAfter ?? TimeSpan.FromMinutes(1));
                return broadcast;
            }
            catch (LineApiException e) when (!e.IsTransient)
            {
                return await RefuseAsync(broadcast, $"LINE refused the broadcast: {e.Status} {e.Message} {string.Join("; ", e.Details)}".Trim(), cancellationToken);
            }
            var moved = await broadcasts.MoveAsync(broadcast, b => b with { LineRequestId = sent.RequestId ?? "accepted" }, cancellationToken);
            if (moved is not { Status: BroadcastStatus.Sending }) return moved;
            broadcast = moved;
        }

        var chunks = await broadcasts.ListPendingChunksAsync(broadcast, cancellationToken);
        if (chunks.Count == 0) return await broadcasts.CompleteIfDoneAsync(broadcast, clock.GetUtcNow(), cancellationToken);
        var dispatched = await broadcasts.MoveAsync(broadcast, b => b with { DispatchedAt = clock.GetUtcNow() }, cancellationToken);
        if (dispatched is not { Status: BroadcastStatus.Sending }) return dispatched;
        broadcast = dispatched;
        await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = ParallelEnqueues, CancellationToken = cancellationToken }, async (number, ct) =>
            await queues.EnqueueAsync(QueueNames.BroadcastChunks, new BroadcastChunkRequest(broadcast.WorkspaceId, broadcast.AccountId, broadcast.Id, number), ct));
        return broadcast;
    }

    private Task<Broadcast?> RefuseAsync(Broadcast broadcast, string reason, CancellationToken cancellationToken)
    {
        logger.LogWarning("Broadcast {BroadcastId} refused: {Reason}", broadcast.Id, reason);
        return MoveFromClaimAsync(broadcast, broadcast with { Status = BroadcastStatus.Refused, Reason = reason, FinishedAt = clock.GetUtcNow() }, cancellationToken);
    }
}
