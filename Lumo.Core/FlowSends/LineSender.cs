using System.Text.Json.Nodes;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Line;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.FlowSends;

/// <summary>
/// Pushes a recorded send with its deterministic retry key and records the outcome: <c>Sent</c> and
/// <c>Delivered LINE Message</c> when LINE accepted it (a 409 for the retry key means an earlier attempt was
/// accepted: also delivered), <c>Failed LINE Message</c> with the reason when LINE refused it or the monthly quota
/// is used up. The intake pushes at once (<see cref="PushRecordedAsync"/>); when LINE does not answer, the send goes
/// to the queue, whose function (<see cref="SendAsync"/>) retries it and finally parks it. LINE's rate limit (429) is
/// waited out with <c>Retry-After</c> and never counts towards parking.
/// </summary>
public sealed class LineSender(LineSendStore sends, WorkspaceStore workspaces, LineMessagingClient line, KlaviyoEventRecorder events, LumoQueues queues,
    TimeProvider clock, ILogger<LineSender> logger)
{
    /// <summary>How long to wait after a 429 that names no Retry-After.</summary>
    public static readonly TimeSpan RateLimitedWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Pushes a send the intake has just recorded (with its pending mark): the outcome, or the send still Queued when
    /// the queue took it over. Not tied to the webhook's request: a caller that hangs up does not stop a durably
    /// accepted send half-way; the push and the storage calls have their own time limits.
    /// </summary>
    public async Task<LineSend> PushRecordedAsync(LineSend send, LineAccount account)
    {
        try
        {
            return await PushAsync(send, account, fromPendingMark: true, CancellationToken.None);
        }
        catch (Exception e)
        {
            // LINE did not answer or asked to wait, or recording the outcome failed: the queue retries (the retry key
            // and the events' unique ids make a repeat of what did happen harmless).
            logger.LogWarning(e, "Send {SendId} was not finished at once; the queue retries it", send.Id);
            await HandToQueueAsync(send, WaitAfter(e), CancellationToken.None);
            return send;
        }
    }

    /// <summary>Queues the send (after <paramref name="delay"/>) and removes its pending mark: from now on the queue retries and parks it.</summary>
    public async Task HandToQueueAsync(LineSend send, TimeSpan delay, CancellationToken cancellationToken)
    {
        await queues.EnqueueAsync(QueueNames.LineSends, new LineSendRequest(send.WorkspaceId, send.Id), cancellationToken, delay > TimeSpan.Zero ? delay : null);
        await sends.ClearPendingAsync(send.WorkspaceId, send.Id, cancellationToken);
    }

    /// <summary>The queue function's side: pushes a send that is still queued; server errors are thrown for the queue to retry.</summary>
    public async Task<SendStatus?> SendAsync(LineSendRequest request, CancellationToken cancellationToken)
    {
        var send = await sends.GetIfExistsAsync(request.WorkspaceId, request.SendId, cancellationToken);
        if (send is null || send.Status != SendStatus.Queued) return send?.Status; // done before: nothing to do
        var account = await workspaces.GetAccountCachedAsync(send.WorkspaceId, send.AccountId, cancellationToken);
        if (account is null) return (await FinishAsync(send, null, SendStatus.Failed, "the LINE account was removed", null, false, cancellationToken)).Status;
        try
        {
            return (await PushAsync(send, account, fromPendingMark: false, cancellationToken)).Status;
        }
        catch (LineApiException e) when (e.Status == 429)
        {
            // Not a failure of the send: it waits its turn in a new message and this one is done.
            await queues.EnqueueAsync(QueueNames.LineSends, request, cancellationToken, WaitAfter(e));
            return SendStatus.Queued;
        }
    }

    // What LINE asked for (Retry-After), a second after a 429 that asked for nothing, else no wait.
    private static TimeSpan WaitAfter(Exception e) =>
        (e as LineApiException)?.RetryAfter ?? (e is LineApiException { Status: 429 } ? RateLimitedWait : TimeSpan.Zero);

    private async Task<LineSend> PushAsync(LineSend send, LineAccount account, bool fromPendingMark, CancellationToken cancellationToken)
    {
        try
        {
            var pushed = await line.PushMessageAsync(new LineAccountRef(send.WorkspaceId, send.AccountId),
                new LinePush(send.Recipient, send.Messages.Select(m => m!.AsObject()).ToList()), send.RetryKey, cancellationToken);
            return await FinishAsync(send, account, SendStatus.Sent, pushed.WasAlreadyAccepted ? "accepted by LINE earlier (retry key)" : null, pushed.RequestId,
                fromPendingMark, cancellationToken);
        }
        catch (LineApiException e) when (e.IsMonthlyQuotaUsedUp)
        {
            logger.LogWarning("LINE account {AccountId} has used up its monthly message quota", send.AccountId);
            return await FinishAsync(send, account, SendStatus.Failed, "the LINE Official Account's monthly message quota is used up", null, fromPendingMark, cancellationToken);
        }
        catch (LineApiException e) when (!e.IsTransient)
        {
            return await FinishAsync(send, account, SendStatus.Failed, $"LINE refused the message: {e.Status} {e.Message} {string.Join("; ", e.Details)}".Trim(), null,
                fromPendingMark, cancellationToken);
        }
    }

    private async Task<LineSend> FinishAsync(LineSend send, LineAccount? account, SendStatus status, string? reason, string? requestId, bool clearPending,
        CancellationToken cancellationToken)
    {
        send = send with { Status = status, Reason = reason, LineRequestId = requestId ?? send.LineRequestId, UpdatedAt = clock.GetUtcNow() };
        if (send.ProfileId is not null && account is not null)
        {
            var properties = new JsonObject
            {
                ["Source"] = send.Source,
                ["Message"] = send.MessageRef,
                ["LINE Official Account"] = account.BasicId ?? account.ChannelId,
                [account.PropertyNames.UserId] = send.Recipient,
                ["Send ID"] = send.Id,
            };
            if (status == SendStatus.Sent)
            {
                await Task.WhenAll(
                    Record(send, KlaviyoMetrics.SentLineMessage, properties, cancellationToken),
                    Record(send, KlaviyoMetrics.DeliveredLineMessage, (JsonObject)properties.DeepClone(), cancellationToken));
            }
            else
            {
                properties["Reason"] = reason;
                await Record(send, KlaviyoMetrics.FailedLineMessage, properties, cancellationToken);
            }
        }
        // Saved last: a crash before this retries the send, which the retry key and event unique ids make harmless.
        if (await sends.TryCompleteAsync(send, clearPending, cancellationToken)) return send;
        // Finished by another attempt meanwhile (its outcome stands), or erased: this attempt's outcome is not saved.
        logger.LogInformation("Send {SendId} changed while this attempt finished it; its stored outcome stands", send.Id);
        return await sends.GetIfExistsAsync(send.WorkspaceId, send.Id, cancellationToken) ?? send;
    }

    private Task Record(LineSend send, string metric, JsonObject properties, CancellationToken cancellationToken) =>
        events.RecordAsync(new KlaviyoEvent(send.WorkspaceId, send.ProfileId!, metric, $"line-send:{send.Id}:{metric}", send.UpdatedAt, properties), cancellationToken);
}
