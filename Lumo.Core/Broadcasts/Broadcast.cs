using System.Text.Json.Nodes;
using Lumo.Core.Line;

namespace Lumo.Core.Broadcasts;

/// <summary>
/// Scheduled → Preparing (audience evaluated, recipients fixed in chunks, quota checked) → Sending → Completed.
/// Refused: the quota would not cover it (and a partial send was not allowed) or the segment could not be read.
/// Paused: the monthly quota ran out mid-way; resumable. Cancelled: stopped by the admin before it started, or while paused.
/// </summary>
public enum BroadcastStatus { Scheduled, Preparing, Sending, Paused, Completed, Refused, Cancelled }

/// <summary>A Message Broadcast: what, to whom (every friend, or a Lumo Segment evaluated when it starts) and when.</summary>
public sealed record Broadcast
{
    public required string WorkspaceId { get; init; }
    public required string AccountId { get; init; }
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required JsonArray Messages { get; init; }
    /// <summary>"text", or the id of the Auto Send Message the messages were taken from (when the broadcast was created).</summary>
    public required string MessageRef { get; init; }
    /// <summary>
    /// Links and images are tracked (opens and clicks): each recipient then gets a push of their own, with their own
    /// tracking URLs, instead of a share of a multicast. Only for segment broadcasts with something to track.
    /// </summary>
    public bool Tracked { get; init; }
    /// <summary>The Auto Send Message's UTM overrides for tracked links.</summary>
    public IReadOnlyDictionary<string, string> Utm { get; init; } = new Dictionary<string, string>();
    /// <summary>The Lumo Segment to send to; null: every friend, through LINE's broadcast API.</summary>
    public string? SegmentId { get; init; }
    public DateTimeOffset ScheduledAt { get; init; }
    /// <summary>Start even when the remaining monthly quota covers only part of the recipients (then pause when it runs out).</summary>
    public bool AllowPartialSend { get; init; }
    public BroadcastStatus Status { get; init; }
    /// <summary>Why it was refused or paused (or what stopped it).</summary>
    public string? Reason { get; init; }
    /// <summary>Recipients fixed when it started: matching friends who have not blocked the account.</summary>
    public int Targeted { get; init; }
    /// <summary>Matching friends left out because they had blocked the account when it started.</summary>
    public int SkippedBlocked { get; init; }
    public int Chunks { get; init; }
    /// <summary>The preparation whose chunks are the recipients (chunks of an abandoned preparation are never read).</summary>
    public string? PreparationId { get; init; }
    public int PreparationAttempts { get; init; }
    /// <summary>For an every-friend broadcast: LINE's request id once LINE accepted the broadcast request.</summary>
    public string? LineRequestId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When its pending chunks were last handed to the queue.</summary>
    public DateTimeOffset? DispatchedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? ETag { get; init; }

    public bool ToEveryFriend => SegmentId is null;

    /// <summary>The LINE retry key of one chunk (or, for chunk -1, of the every-friend broadcast request): the same on every attempt.</summary>
    public Guid RetryKeyOf(int chunk) => LineRetryKey.Of($"lumo-broadcast-retry-key:{WorkspaceId}:{AccountId}:{Id}:{chunk}");
}

public enum ChunkStatus { Pending, Sent, Failed }

/// <summary>
/// Up to 500 recipients of a broadcast, fixed before anything is sent, so that every attempt at a chunk sends the same
/// request under the same retry key. <see cref="ProfileIds"/> runs parallel to <see cref="UserIds"/> (null: not linked).
/// </summary>
public sealed record BroadcastChunk
{
    public required int Number { get; init; }
    public required IReadOnlyList<string> UserIds { get; init; }
    public required IReadOnlyList<string?> ProfileIds { get; init; }
    public ChunkStatus Status { get; init; }
    public string? LineRequestId { get; init; }
    /// <summary>When the first attempt to send it began: LINE remembers a retry key for 24 hours only.</summary>
    public DateTimeOffset? FirstAttemptAt { get; init; }
    /// <summary>Until when an attempt in progress holds the chunk (null: none does).</summary>
    public DateTimeOffset? AttemptUntil { get; init; }
    /// <summary>For a tracked broadcast (a push each): the positions in <see cref="UserIds"/> already pushed (or refused for good).</summary>
    public IReadOnlySet<int> Done { get; init; } = new HashSet<int>();

    /// <summary>The positions in <see cref="UserIds"/> not yet reached (all of them, but for a tracked chunk part-way).</summary>
    public IEnumerable<int> PendingPositions => Enumerable.Range(0, UserIds.Count).Where(i => !Done.Contains(i));
    public DateTimeOffset? SentAt { get; init; }
    public string? Reason { get; init; }
    public string? ETag { get; init; }
}
