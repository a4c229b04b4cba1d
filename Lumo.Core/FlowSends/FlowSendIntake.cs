using System.Text.Json.Nodes;
using Lumo.Core.AutoSendMessages;
using Lumo.Core.Friends;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.FlowSends;

/// <summary>Queue message: push one recorded send.</summary>
public sealed record LineSendRequest(string WorkspaceId, string SendId);

public enum FlowSendOutcome { Queued, AlreadyDone, Skipped, UnknownWorkspace, Unauthorized, Invalid }

public sealed record FlowSendResult(FlowSendOutcome Outcome, LineSend? Send = null, Dictionary<string, string[]>? Errors = null);

/// <summary>
/// Takes a Flow webhook call: checks the key, validates the body, resolves the recipient to a linked friend of the
/// account, records the send (or why it was skipped) and queues it. Every retry of the same request maps to the same
/// send record and the same LINE retry key, so Klaviyo's retries can never send twice.
/// </summary>
public sealed class FlowSendIntake(FlowKeys keys, WorkspaceStore workspaces, LineFriendStore friends, LineSendStore sends, AutoSendMessageStore autoSendMessages,
    LumoQueues queues, TimeProvider clock, ILogger<FlowSendIntake> logger)
{
    public async Task<FlowSendResult> AcceptAsync(string workspaceId, string? presentedKey, FlowSendRequest request, CancellationToken cancellationToken)
    {
        if (!await keys.IsValidAsync(workspaceId, presentedKey, cancellationToken))
            return await workspaces.GetWorkspaceIfExistsAsync(workspaceId, cancellationToken) is null
                ? new(FlowSendOutcome.UnknownWorkspace) : new(FlowSendOutcome.Unauthorized);
        return await QueueAsync(workspaceId, request, "flow", cancellationToken);
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
        var sendId = LineSend.IdOf(workspaceId, account!.Id, recipient, explicitKey ? "key:" + request.IdempotencyKey!.Trim() : "content:" + messages!.ToJsonString());
        var existing = await sends.GetIfExistsAsync(workspaceId, sendId, cancellationToken);
        if (existing is not null)
        {
            if (existing.Status == SendStatus.Queued)
                await EnqueueAsync(existing, cancellationToken); // the first attempt may have died before queueing
            return new(existing.Status == SendStatus.Queued ? FlowSendOutcome.Queued : existing.Status == SendStatus.Skipped ? FlowSendOutcome.Skipped : FlowSendOutcome.AlreadyDone, existing);
        }

        var friend = await friends.GetIfExistsAsync(workspaceId, account.Id, recipient, cancellationToken);
        var skipReason = friend switch
        {
            null => "not a friend of this LINE Official Account",
            { FollowStatus: FollowStatus.Blocked } => "has blocked this LINE Official Account",
            { IsLinked: false } => "not ID-linked to a Klaviyo profile",
            _ => null,
        };
        var now = clock.GetUtcNow();
        var send = new LineSend
        {
            WorkspaceId = workspaceId,
            Id = sendId,
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
        var (stored, _) = await sends.AddOrGetAsync(send, cancellationToken);
        if (stored.Status == SendStatus.Skipped)
        {
            logger.LogInformation("Skipped Flow send {SendId} of workspace {WorkspaceId}: recipient {Reason}", sendId, workspaceId, stored.Reason);
            return new(FlowSendOutcome.Skipped, stored);
        }
        if (stored.Status == SendStatus.Queued) await EnqueueAsync(stored, cancellationToken);
        return new(stored.Status == SendStatus.Queued ? FlowSendOutcome.Queued : FlowSendOutcome.AlreadyDone, stored);
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
