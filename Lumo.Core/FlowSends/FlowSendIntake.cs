using System.Text.Json;
using System.Text.Json.Nodes;
using Lumo.Core.AutoSendMessages;
using Lumo.Core.Friends;
using Lumo.Core.ProductCards;
using Lumo.Core.Shopify;
using Lumo.Core.Tracking;
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
/// account, records the send (or why it was skipped) and pushes it at once; the queue is only the fallback when LINE
/// does not answer (and a sweep covers a process that dies in between). Every retry of the same request maps to the
/// same send record and the same LINE retry key, and only the request that recorded the send pushes it, so Klaviyo's
/// retries can never send twice: by its explicit idempotency key for good, or by its content within
/// <see cref="FlowSendOptions.DuplicateWindow"/>. A skip never blocks a later request.
/// </summary>
public sealed class FlowSendIntake(ShopifyFeedStore productFeeds, FlowKeys keys, WorkspaceStore workspaces, LineFriendStore friends, LineSendStore sends, AutoSendMessageStore autoSendMessages,
    LineSender sender, SendTracking tracking, IOptions<FlowSendOptions> options, TimeProvider clock, ILogger<FlowSendIntake> logger)
{
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
    /// Validates, resolves the recipient, records the send (or its skip) durably and pushes it. Used by Flow webhooks
    /// and by the admin's test send (<paramref name="source"/> "test").
    /// </summary>
    public async Task<FlowSendResult> AcceptAsync(string workspaceId, FlowSendRequest request, string source, CancellationToken cancellationToken)
    {
        var errors = request.Validate();
        var account = errors.ContainsKey("account") ? null : await workspaces.GetAccountCachedAsync(workspaceId, request.Account!.Trim(), cancellationToken);
        if (account is null && !errors.ContainsKey("account"))
            errors["account"] = [$"This workspace has no LINE account '{request.Account}'."];
        var (messages, messageRef, autoSendMessage) = errors.ContainsKey("text") ? (null, null, null) : await MessagesAsync(workspaceId, request, errors, cancellationToken);
        if (errors.Count > 0) return new(FlowSendOutcome.Invalid, Errors: errors);

        var recipient = request.To!.Trim();
        var explicitKey = !string.IsNullOrWhiteSpace(request.IdempotencyKey);
        var now = clock.GetUtcNow();
        // An explicit key names one send for good. Content alone names a send only within the duplicate window
        // (Klaviyo's retry horizon): the same text to the same person next month is a new send with a new retry key.
        // An Auto Send Message's content is what the request asked for, not its rendering: a feed card rendered again
        // after its feed was rebuilt must not turn Klaviyo's retry into a second send.
        var asked = autoSendMessage is null ? messages!.ToJsonString()
            : $"{messageRef}|{JsonSerializer.Serialize(request.Variables?.OrderBy(v => v.Key, StringComparer.Ordinal))}|{request.Trigger?.ToJsonString()}";
        var contentKey = explicitKey ? null : LineSend.IdOf(workspaceId, account!.Id, recipient, "content:" + asked);
        var claim = contentKey is null ? null : await sends.GetContentClaimIfExistsAsync(workspaceId, contentKey, cancellationToken);
        // With a key, what is sent is part of the id too: one event may trigger several flow steps, each its own send.
        // An Auto Send Message is named by its id rather than its rendered content, which may change between Klaviyo's
        // retries of one trigger (a catalog item's price, a profile property) and must not make a second send.
        var sent = autoSendMessage is null ? messages!.ToJsonString() : messageRef!;
        var sendId = explicitKey ? LineSend.IdOf(workspaceId, account!.Id, recipient, "key:" + request.IdempotencyKey!.Trim(), sent)
            : claim is not null && now - claim.Since < options.Value.DuplicateWindow ? claim.SendId : null;

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
            // A new content window: the send id (and so its LINE retry key) comes from the moment the window starts.
            Id = sendId ?? LineSend.IdOf(contentKey!, "since:" + now.UtcTicks),
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
            // A recorded send of this request (a retry, or the recipient blocked since) answers for it. Otherwise,
            // since Klaviyo does not retry a 200, a later identical request is a new trigger: the skip is logged under
            // an id of its own and claims nothing, and the next request is evaluated afresh.
            if (sendId is not null && await sends.GetIfExistsAsync(workspaceId, sendId, cancellationToken) is { Status: not SendStatus.Skipped } earlier)
                return Answer(earlier);
            send = send with { Id = LineSend.IdOf(send.Id, "skipped", Guid.NewGuid().ToString("N")) };
            await sends.SaveAsync(send, cancellationToken);
            logger.LogInformation("Skipped Flow send of workspace {WorkspaceId}: recipient {Reason}", workspaceId, skipReason);
            return new(FlowSendOutcome.Skipped, send);
        }

        if (account.TrackOpensAndClicks && autoSendMessage?.TrackOpensAndClicks != false)
            send = await tracking.TrackAsync(send, autoSendMessage?.Name ?? "flow-text", autoSendMessage?.Utm, cancellationToken);
        // Only the request that records the send pushes it: every concurrent or later retry finds it recorded.
        var recorded = await sends.TryRecordNewAsync(send, sendId is null ? contentKey : null, sendId is null ? claim : null, cancellationToken);
        if (recorded is null) return await EarlierSendAsync(send, account, contentKey, cancellationToken);
        return new(FlowSendOutcome.Queued, await sender.PushRecordedAsync(recorded, account));
    }

    // The send an earlier or concurrent request recorded for this one (found by id, or through the content claim that
    // request won).
    private async Task<FlowSendResult> EarlierSendAsync(LineSend send, LineAccount account, string? contentKey, CancellationToken cancellationToken)
    {
        var recorded = await sends.GetIfExistsAsync(send.WorkspaceId, send.Id, cancellationToken);
        if (recorded is null && contentKey is not null && await sends.GetContentClaimIfExistsAsync(send.WorkspaceId, contentKey, cancellationToken) is { } winner)
            recorded = await sends.GetIfExistsAsync(send.WorkspaceId, winner.SendId, cancellationToken);
        // Gone between the conflict and this read (erased, say): nothing is accepted, so Klaviyo should try again.
        if (recorded is null) throw new InvalidOperationException($"Send {send.Id} was recorded by another request and has vanished since.");
        // Only a row under this send's own id can be replaced (a claim never leads to a skip: skips claim nothing).
        if (recorded.Status == SendStatus.Skipped && recorded.Id == send.Id)
        {
            // Logged as skipped under the send's own id by an older version: the request that replaces it sends it.
            var replaced = await sends.TryReplaceSkippedAsync(send, recorded.ETag!, cancellationToken);
            return replaced is null ? await EarlierSendAsync(send, account, contentKey, cancellationToken) : new(FlowSendOutcome.Queued, await sender.PushRecordedAsync(replaced, account));
        }
        // Recorded by a request that is still pushing it (or died: the sweep hands it to the queue).
        return Answer(recorded);
    }

    private static FlowSendResult Answer(LineSend send) => new(send.Status == SendStatus.Queued ? FlowSendOutcome.Queued : FlowSendOutcome.AlreadyDone, send);

    /// <summary>The LINE messages to send: the direct text, or the Auto Send Message with its variables filled in.</summary>
    private async Task<(JsonArray? Messages, string? Ref, AutoSendMessage? Message)> MessagesAsync(string workspaceId, FlowSendRequest request, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(request.Text))
            return (new JsonArray(new JsonObject { ["type"] = "text", ["text"] = request.Text }), "text", null);
        var message = await autoSendMessages.GetIfExistsAsync(workspaceId, request.Message!.Trim(), cancellationToken);
        if (message is null)
        {
            errors["message"] = [$"This workspace has no Auto Send Message '{request.Message}'."];
            return (null, null, null);
        }
        var trigger = TriggerProducts.Read(request.Trigger, errors);
        var feeds = await productFeeds.ReadAsync(workspaceId, message.Feeds, cancellationToken);
        var rendered = message.Render(request.Variables ?? [], trigger, feeds, out var missing);
        if (missing.Count > 0)
            errors["variables"] = [$"Auto Send Message '{message.Name}' needs the variables: {string.Join(", ", missing)}."];
        foreach (var (field, problems) in LineMessageRules.Validate(rendered, "message"))
            errors[field] = problems; // e.g. a variable made a text too long
        return (rendered, "message:" + message.Id, message);
    }
}
