using System.Text.Json.Nodes;
using Lumo.Core.AutoSendMessages;
using Lumo.Core.FlowSends;
using Lumo.Core.Line;
using Lumo.Core.Segments;
using Lumo.Core.Storage;
using Lumo.Core.Tracking;
using Lumo.Core.Workspaces;

namespace Lumo.Core.Broadcasts;

/// <summary>A new broadcast as the admin describes it: a text or an Auto Send Message, to every friend or a segment, now or at a time.</summary>
public sealed record BroadcastDraft(string? Name, string? Text, string? MessageId, string? SegmentId, DateTimeOffset? ScheduledAt, bool AllowPartialSend);

/// <summary>What a test send did for one user.</summary>
public sealed record TestSendOutcome(string UserId, bool Sent, string? LineRequestId, string? Error);

/// <summary>The admin's use cases for Message Broadcasts: create (validated, nothing written when invalid), cancel, resume, test send.</summary>
public sealed class BroadcastAdministration(Shopify.ShopifyFeedStore productFeeds, BroadcastStore broadcasts, SegmentStore segments, AutoSendMessageStore autoSendMessages, WorkspaceStore workspaces,
    LineMessagingClient line, SendTracking tracking, LumoQueues queues, TimeProvider clock)
{
    public const int MaxNameLength = 100;
    public const int MaxTestRecipients = 10;
    private const int MaxTrackedMessageChars = 30_000;
    /// <summary>A schedule this far in the past still counts as "now" (clocks and form submissions lag).</summary>
    private static readonly TimeSpan ScheduleTolerance = TimeSpan.FromMinutes(1);

    /// <summary>The broadcast, or the problems by field (nothing written); both null when the account does not exist.</summary>
    public async Task<(Broadcast? Broadcast, Dictionary<string, string[]>? Errors)> CreateAsync(string workspaceId, string accountId, BroadcastDraft draft,
        CancellationToken cancellationToken)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, cancellationToken) is not { } account) return (null, null);
        var errors = new Dictionary<string, string[]>();
        var name = draft.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
            errors["name"] = [$"Give the broadcast a name of 1 to {MaxNameLength} characters; it names the broadcast in Klaviyo events."];
        var (messages, messageRef, autoSendMessage) = await MessagesAsync(workspaceId, draft, errors, cancellationToken);
        if (draft.SegmentId is { } segmentId && (!Ids.IsLumoId(segmentId) || await segments.GetIfExistsAsync(workspaceId, accountId, segmentId, cancellationToken) is null))
            errors["segmentId"] = [$"This LINE account has no segment '{segmentId}'. Leave it out to send to every friend."];
        var now = clock.GetUtcNow();
        if (draft.ScheduledAt is { } at && at < now - ScheduleTolerance)
            errors["scheduledAt"] = [$"{at:u} is in the past. Leave it out to send now."];
        if (errors.Count > 0) return (null, errors);

        // Tracking needs a tracking URL per recipient, so a tracked broadcast is a push per recipient: only to a
        // segment (LINE's every-friend broadcast is one request), and only when the message has a link or image.
        var tracked = false;
        if (draft.SegmentId is not null && account.TrackOpensAndClicks && autoSendMessage?.TrackOpensAndClicks != false)
        {
            var probe = await tracking.TrackAsync(new LineSend
            {
                // As long as a real send id (32 characters): the tracking URLs it goes into are measured below.
                WorkspaceId = workspaceId, Id = new string('0', 32), AccountId = accountId, Recipient = "", Source = BroadcastChunkSender.Source, Messages = messages!,
            }, name!, autoSendMessage?.Utm, cancellationToken);
            // A send's messages live in one table column (64 KiB); a bigger message goes out untracked rather than not at all.
            tracked = probe.Links.Count + probe.Images.Count > 0 && probe.Messages.ToJsonString().Length <= MaxTrackedMessageChars;
        }
        var broadcast = await broadcasts.AddAsync(new Broadcast
        {
            Tracked = tracked, Utm = autoSendMessage?.Utm ?? new Dictionary<string, string>(),
            WorkspaceId = workspaceId, AccountId = accountId, Id = Ids.NewLumoId(), Name = name!, Messages = messages!, MessageRef = messageRef!,
            SegmentId = draft.SegmentId, ScheduledAt = draft.ScheduledAt?.ToUniversalTime() ?? now, AllowPartialSend = draft.AllowPartialSend,
            Status = BroadcastStatus.Scheduled, CreatedAt = now,
        }, cancellationToken);
        if (broadcast.ScheduledAt <= now) await RunAsync(broadcast, cancellationToken);
        return (broadcast, null);
    }

    /// <summary>
    /// Cancels a broadcast that has not started, is paused, or is sending (chunks not sent yet are not sent; one in
    /// flight finishes); the problem by field when it is already over or being prepared.
    /// </summary>
    public Task<(Broadcast? Broadcast, Dictionary<string, string[]>? Errors)> CancelAsync(Broadcast broadcast, CancellationToken cancellationToken) =>
        ChangeStatusAsync(broadcast, [BroadcastStatus.Scheduled, BroadcastStatus.Paused, BroadcastStatus.Sending], BroadcastStatus.Cancelled,
            "Only a scheduled, sending or paused broadcast can be cancelled", cancellationToken);

    /// <summary>Resumes a paused broadcast: its pending chunks are queued again (and the quota checked before each).</summary>
    public async Task<(Broadcast? Broadcast, Dictionary<string, string[]>? Errors)> ResumeAsync(Broadcast broadcast, CancellationToken cancellationToken)
    {
        var result = await ChangeStatusAsync(broadcast, [BroadcastStatus.Paused], BroadcastStatus.Sending, "Only a paused broadcast can be resumed", cancellationToken);
        if (result.Broadcast is { Status: BroadcastStatus.Sending } resumed) await RunAsync(resumed, cancellationToken);
        return result;
    }

    /// <summary>Pushes the broadcast's messages to a few chosen users now (not recorded as the broadcast, no Klaviyo events).</summary>
    public async Task<(List<TestSendOutcome>? Outcomes, Dictionary<string, string[]>? Errors)> TestSendAsync(Broadcast broadcast, IReadOnlyList<string>? userIds,
        CancellationToken cancellationToken)
    {
        if (userIds is not { Count: > 0 and <= MaxTestRecipients } || userIds.Any(u => !Ids.IsLineUserId(u)))
            return (null, new() { ["userIds"] = [$"Give 1 to {MaxTestRecipients} LINE user IDs (U followed by 32 hexadecimal characters)."] });
        var account = new LineAccountRef(broadcast.WorkspaceId, broadcast.AccountId);
        var outcomes = new List<TestSendOutcome>();
        foreach (var userId in userIds.Distinct())
        {
            try
            {
                var pushed = await line.PushMessageAsync(account, new LinePush(userId, broadcast.Messages.Select(m => m!.AsObject()).ToList()), Guid.NewGuid(), cancellationToken);
                outcomes.Add(new TestSendOutcome(userId, true, pushed.RequestId, null));
            }
            catch (LineApiException e)
            {
                outcomes.Add(new TestSendOutcome(userId, false, null, $"{e.Status} {e.Message}".Trim()));
            }
        }
        return (outcomes, null);
    }

    private async Task<(Broadcast? Broadcast, Dictionary<string, string[]>? Errors)> ChangeStatusAsync(Broadcast broadcast, BroadcastStatus[] from, BroadcastStatus to,
        string refusal, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!from.Contains(broadcast.Status))
                return (null, new() { ["status"] = [$"{refusal}; this one is {broadcast.Status.ToString().ToLowerInvariant()}."] });
            var changed = await broadcasts.TryUpdateAsync(broadcast with { Status = to, Reason = to == BroadcastStatus.Cancelled ? "cancelled by an admin" : null,
                FinishedAt = to == BroadcastStatus.Cancelled ? clock.GetUtcNow() : broadcast.FinishedAt }, cancellationToken);
            if (changed is not null) return (changed, null);
            broadcast = await broadcasts.GetIfExistsAsync(broadcast.WorkspaceId, broadcast.AccountId, broadcast.Id, cancellationToken)
                        ?? throw new InvalidOperationException($"Broadcast {broadcast.Id} vanished.");
        }
    }

    private Task RunAsync(Broadcast broadcast, CancellationToken cancellationToken) =>
        queues.EnqueueAsync(QueueNames.Broadcasts, new BroadcastRequest(broadcast.WorkspaceId, broadcast.AccountId, broadcast.Id), cancellationToken);

    private async Task<(JsonArray? Messages, string? Ref, AutoSendMessage? Message)> MessagesAsync(string workspaceId, BroadcastDraft draft, Dictionary<string, string[]> errors,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(draft.Text) == string.IsNullOrWhiteSpace(draft.MessageId))
        {
            errors["text"] = ["Give either a text or the id of an Auto Send Message (messageId), not both."];
            return (null, null, null);
        }
        if (!string.IsNullOrWhiteSpace(draft.Text))
        {
            var text = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = draft.Text });
            foreach (var (field, problems) in LineMessageRules.Validate(text, "text")) errors["text"] = problems;
            return (text, "text", null);
        }
        var message = Ids.IsLumoId(draft.MessageId) ? await autoSendMessages.GetIfExistsAsync(workspaceId, draft.MessageId!, cancellationToken) : null;
        if (message is null)
        {
            errors["messageId"] = [$"This workspace has no Auto Send Message '{draft.MessageId}'."];
            return (null, null, null);
        }
        if (message.Variables.Count > 0)
        {
            errors["messageId"] = [$"The Auto Send Message uses variables ({string.Join(", ", message.Variables)}), which a broadcast has no per-recipient values for."];
            return (null, null, null);
        }
        // A broadcast has no trigger event: its trigger cards show their fallback products, or their text alone; feed cards show the feed.
        var feeds = await productFeeds.ReadAsync(workspaceId, message.Feeds, cancellationToken);
        return (message.Render(new Dictionary<string, string>(), null, feeds, out _), message.Id, message);
    }
}
