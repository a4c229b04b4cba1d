using System.Text.Json.Nodes;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Line;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.FlowSends;

/// <summary>
/// Pushes a recorded send with its deterministic retry key and records the outcome: <c>Sent</c> and
/// <c>Delivered LINE Message</c> when LINE accepted it (a 409 for the retry key means an earlier attempt was
/// accepted: also delivered), <c>Failed LINE Message</c> with the reason when LINE refused it or the monthly quota
/// is used up. Rate limits and server errors are thrown, so the queue retries and finally parks the send.
/// </summary>
public sealed class LineSender(LineSendStore sends, WorkspaceStore workspaces, LineMessagingClient line, KlaviyoEventRecorder events,
    TimeProvider clock, ILogger<LineSender> logger)
{
    public async Task<SendStatus?> SendAsync(LineSendRequest request, CancellationToken cancellationToken)
    {
        var send = await sends.GetIfExistsAsync(request.WorkspaceId, request.SendId, cancellationToken);
        if (send is null || send.Status != SendStatus.Queued) return send?.Status; // done before: nothing to do
        var account = await workspaces.GetAccountIfExistsAsync(send.WorkspaceId, send.AccountId, cancellationToken);
        if (account is null) return await FinishAsync(send, null, SendStatus.Failed, "the LINE account was removed", null, cancellationToken);

        try
        {
            var pushed = await line.PushMessageAsync(new LineAccountRef(send.WorkspaceId, send.AccountId),
                new LinePush(send.Recipient, send.Messages.Select(m => m!.AsObject()).ToList()), send.RetryKey, cancellationToken);
            return await FinishAsync(send, account, SendStatus.Sent, pushed.WasAlreadyAccepted ? "accepted by LINE earlier (retry key)" : null, pushed.RequestId, cancellationToken);
        }
        catch (LineApiException e) when (e.Status == 429 && e.Message.Contains("monthly limit", StringComparison.OrdinalIgnoreCase))
        {
            logger.LogWarning("LINE account {AccountId} has used up its monthly message quota", send.AccountId);
            return await FinishAsync(send, account, SendStatus.Failed, "the LINE Official Account's monthly message quota is used up", null, cancellationToken);
        }
        catch (LineApiException e) when (!e.IsTransient)
        {
            return await FinishAsync(send, account, SendStatus.Failed, $"LINE refused the message: {e.Status} {e.Message} {string.Join("; ", e.Details)}".Trim(), null, cancellationToken);
        }
    }

    private async Task<SendStatus> FinishAsync(LineSend send, LineAccount? account, SendStatus status, string? reason, string? requestId, CancellationToken cancellationToken)
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
                await Record(send, KlaviyoMetrics.SentLineMessage, properties, cancellationToken);
                await Record(send, KlaviyoMetrics.DeliveredLineMessage, (JsonObject)properties.DeepClone(), cancellationToken);
            }
            else
            {
                properties["Reason"] = reason;
                await Record(send, KlaviyoMetrics.FailedLineMessage, properties, cancellationToken);
            }
        }
        // Saved last: a crash before this retries the send, which the retry key and event unique ids make harmless.
        await sends.SaveAsync(send, cancellationToken);
        return status;
    }

    private Task Record(LineSend send, string metric, JsonObject properties, CancellationToken cancellationToken) =>
        events.RecordAsync(new KlaviyoEvent(send.WorkspaceId, send.ProfileId!, metric, $"line-send:{send.Id}:{metric}", send.UpdatedAt, properties), cancellationToken);
}
