using System.Text.Json.Nodes;
using Lumo.Core.AutoSendMessages;
using Lumo.Core.Friends;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lumo.Core.FlowSends;

/// <summary>Queue message: push one recorded send.</summary>
public sealed record LineSendRequest(string WorkspaceId, string SendId);

public enum FlowSendOutcome { Queued, AlreadyDone, Skipped, UnknownWorkspace, Unauthorized, Invalid }

public sealed record FlowSendResult(FlowSendOutcome Outcome, LineSend? Send = null, Dictionary<string, string[]>? Errors = null);

/// <summary>
/// Takes a Flow webhook call: checks the key, validates the body, resolves the recipient to a linked friend of the
/// account, records the send (or why it was skipped) and queues it. Every retry of the same request maps to the same
/// send record and the same LINE retry key, so Klaviyo's retries can never send twice: by its explicit idempotency
/// key for good, or by its content within <see cref="FlowSendOptions.DuplicateWindow"/>. A skip never blocks a later request.
/// </summary>
public sealed class FlowSendIntake(FlowKeys keys, WorkspaceStore workspaces, LineFriendStore friends, LineSendStore sends, AutoSendMessageStore autoSendMessages,
    LumoQueues queues, IOptions<FlowSendOptions> options, TimeProvider clock, ILogger<FlowSendIntake> logger)
{
    /// <summary>How long a recorded send may wait in the queue before a retry of its request queues it again.</summary>
    public static readonly TimeSpan RequeueAfter = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Null when <paramref name="presentedKey"/> is the workspace's Flow key; otherwise why not (unknown workspace or
    /// wrong key). Flow webhook endpoints ask this before they read the body.
    /// </summary>
    public async Task<FlowSendOutcome?> RefuseUnlessAuthenticAsync(string workspaceId, string? presentedKey, CancellationToken cancellationToken)
    {
        if (await keys.IsValidAsync(workspaceId, presentedKey, cancellationToken)) return null;
        return await workspaces.GetWorkspaceIfExistsAsync(workspaceId, cancellationToken) is null ? FlowSendOutcome.UnknownWorkspace : FlowSendOutcome.Unauthorized;
    }

    /// <summary>
    /// Validates, resolves the recipient and records and queues the send (or its skip). Used by Flow webhooks and
    /// by the admin's test send (<paramref name="source"/> "test").
    /// </summary>
    public async Task<FlowSendResult> QueueAsync(string workspaceId, FlowSendRequest request, string source, CancellationToken cancellationToken)
    {
        var errors = request.Validate();
        var account = errors.ContainsKey("account") ? null : await workspaces.GetAccountIfExistsAsync(workspaceId, request.Account!.Trim(), cancellationToken);
        if (account is null && !errors.ContainsKey("account"))
            errors["account"] = [$"This workspace has no LINE account '{request.Account}'."];
        var (messages, messageRef) = errors.ContainsKey("text") ? (null, null) : await MessagesAsync(workspaceId, request, errors, cancellationToken);
        if (errors.Count > 0) return new(FlowSendOutcome.Invalid, Errors: errors);

        var recipient = request.To!.Trim();
        var explicitKey = !string.IsNullOrWhiteSpace(request.IdempotencyKey);
        var now = clock.GetUtcNow();
        // An explicit key names one send for good. Content alone names a send only within the duplicate window
        // (Klaviyo's retry horizon): the same text to the same person next month is a new send with a new retry key.
        var contentKey = explicitKey ? null : LineSend.IdOf(workspaceId, account!.Id, recipient, "content:" + messages!.ToJsonString());
        var claim = contentKey is null ? null : await sends.GetContentClaimIfExistsAsync(workspaceId, contentKey, cancellationToken);
        // With a key, the content is part of the id too: one event may trigger several flow steps, each its own send.
        var sendId = explicitKey ? LineSend.IdOf(workspaceId, account!.Id, recipient, "key:" + request.IdempotencyKey!.Trim(), messages!.ToJsonString())
            : claim is not null && now - claim.Since < options.Value.DuplicateWindow ? claim.SendId : null;
        var existing = sendId is null ? null : await sends.GetIfExistsAsync(workspaceId, sendId, cancellationToken);
        if (existing is { Status: not SendStatus.Skipped })
        {
            // The first request may have died between recording and queueing; a retry that finds the send still queued
            // long after queues it again. Not at once: Klaviyo's retry storms come within seconds, and each extra queue
            // message would make LINE see the retry key again.
            if (existing.Status == SendStatus.Queued && now - existing.UpdatedAt > RequeueAfter)
                await EnqueueAsync(existing, cancellationToken);
            return new(existing.Status == SendStatus.Queued ? FlowSendOutcome.Queued : FlowSendOutcome.AlreadyDone, existing);
        }

        var friend = await friends.GetIfExistsAsync(workspaceId, account!.Id, recipient, cancellationToken);
        var skipReason = friend switch
        {
            null => "not a friend of this LINE Official Account",
            { FollowStatus: FollowStatus.Blocked } => "has blocked this LINE Official Account",
            { IsLinked: false } => "not ID-linked to a Klaviyo profile",
            _ => null,
        };
        var send = new LineSend
        {
            WorkspaceId = workspaceId,
            Id = sendId ?? "",
            AccountId = account.Id,
            Recipient = recipient,
            ProfileId = friend?.KlaviyoProfileId,
            Source = source,
            MessageRef = messageRef,
            Messages = messages!,
            Status = skipReason is null ? SendStatus.Queued : SendStatus.Skipped,
            Reason = skipReason,
            KeySource = explicitKey ? "explicit" : "content",
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (skipReason is not null)
        {
            // Klaviyo does not retry a 200, so a later identical request is a new trigger: the skip is logged under
            // an id of its own and claims nothing, and the next request is evaluated afresh.
            send = send with { Id = LineSend.IdOf(sendId ?? contentKey!, "skipped", Guid.NewGuid().ToString("N")) };
            await sends.SaveAsync(send, cancellationToken);
            logger.LogInformation("Skipped Flow send of workspace {WorkspaceId}: recipient {Reason}", workspaceId, skipReason);
            return new(FlowSendOutcome.Skipped, send);
        }
        send = send with { Id = sendId ?? await ClaimContentAsync(workspaceId, account.Id, contentKey!, claim, now, cancellationToken) };
        var (stored, created) = await sends.AddOrGetAsync(send, cancellationToken);
        if (!created && stored.Status == SendStatus.Skipped)
        {
            await sends.SaveAsync(send, cancellationToken); // logged as skipped by an older version, under the send's own id
            (stored, created) = (send, true);
        }
        // Only the request that recorded the send queues it: concurrent retries that lost the race must not add messages.
        if (created) await EnqueueAsync(stored, cancellationToken);
        return new(stored.Status == SendStatus.Queued ? FlowSendOutcome.Queued : FlowSendOutcome.AlreadyDone, stored);
    }

    // A new send for this content: its id (and so its LINE retry key) comes from the moment its window starts.
    // Concurrent identical requests race on the claim; the losers take the winner's send.
    private async Task<string> ClaimContentAsync(string workspaceId, string accountId, string contentKey, ContentClaim? expired, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var sendId = LineSend.IdOf(contentKey, "since:" + now.UtcTicks);
            if (await sends.TryClaimContentAsync(workspaceId, accountId, contentKey, sendId, now, expired, cancellationToken)) return sendId;
            var current = await sends.GetContentClaimIfExistsAsync(workspaceId, contentKey, cancellationToken);
            if (current is not null && now - current.Since < options.Value.DuplicateWindow || attempt >= 5)
                return current?.SendId ?? sendId;
            expired = current;
        }
    }

    /// <summary>The LINE messages to send: the direct text, or the Auto Send Message with its variables filled in.</summary>
    private async Task<(JsonArray? Messages, string? Ref)> MessagesAsync(string workspaceId, FlowSendRequest request, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(request.Text))
            return (new JsonArray(new JsonObject { ["type"] = "text", ["text"] = request.Text }), "text");
        var message = await autoSendMessages.GetIfExistsAsync(workspaceId, request.Message!.Trim(), cancellationToken);
        if (message is null)
        {
            errors["message"] = [$"This workspace has no Auto Send Message '{request.Message}'."];
            return (null, null);
        }
        var rendered = message.Render(request.Variables ?? [], out var missing);
        if (missing.Count > 0)
            errors["variables"] = [$"Auto Send Message '{message.Name}' needs the variables: {string.Join(", ", missing)}."];
        foreach (var (field, problems) in LineMessageRules.Validate(rendered, "message"))
            errors[field] = problems; // e.g. a variable made a text too long
        return (rendered, "message:" + message.Id);
    }

    private Task EnqueueAsync(LineSend send, CancellationToken cancellationToken) =>
        queues.EnqueueAsync(QueueNames.LineSends, new LineSendRequest(send.WorkspaceId, send.Id), cancellationToken);
}
