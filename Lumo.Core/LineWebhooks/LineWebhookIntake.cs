using System.Text.Json.Nodes;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.LineWebhooks;

public enum WebhookOutcome { Accepted, UnknownAccount, BadSignature, Malformed }

/// <summary>
/// Takes a LINE webhook: finds the account, checks the signature on the raw bytes, parses, and queues the events
/// for processing — nothing slower, since LINE expects an answer within about two seconds. Nothing is written for
/// a body that fails any check. De-duplication on webhookEventId happens when the events are applied.
/// </summary>
public sealed class LineWebhookIntake(WorkspaceStore workspaces, ISecretStore secrets, LumoQueues queues, ILogger<LineWebhookIntake> logger)
{
    /// <summary>Queue messages are at most 64 KB after Base64; keep each batch's JSON well under 48 KB.</summary>
    private const int MaxBatchBytes = 40_000;

    public async Task<(WebhookOutcome Outcome, int Events, string? Error)> AcceptAsync(
        string workspaceId, string accountId, ReadOnlyMemory<byte> body, string? signature, CancellationToken cancellationToken)
    {
        var account = await workspaces.GetAccountCachedAsync(workspaceId, accountId, cancellationToken);
        if (account is null) return (WebhookOutcome.UnknownAccount, 0, null);

        var secret = await secrets.GetIfExistsAsync(SecretNames.ChannelSecret(workspaceId, accountId), cancellationToken);
        if (secret is null || !LineSignature.IsValid(secret, body.Span, signature))
        {
            logger.LogWarning("Refused a LINE webhook for account {AccountId}: missing or wrong signature", accountId);
            return (WebhookOutcome.BadSignature, 0, null);
        }

        var events = LineWebhookParser.TryParse(body.Span, out var error);
        if (events is null)
        {
            logger.LogWarning("Refused a signed but malformed LINE webhook for account {AccountId}: {Error}", accountId, error);
            return (WebhookOutcome.Malformed, 0, error);
        }

        foreach (var batch in Chunk(events))
            await queues.EnqueueAsync(QueueNames.LineEvents, new LineEventBatch(workspaceId, accountId, batch), cancellationToken);
        return (WebhookOutcome.Accepted, events.Count, null);
    }

    private static IEnumerable<List<JsonObject>> Chunk(IReadOnlyList<LineWebhookEvent> events)
    {
        var batch = new List<JsonObject>();
        var bytes = 0;
        foreach (var e in events)
        {
            var size = e.Raw.ToJsonString().Length;
            if (batch.Count > 0 && bytes + size > MaxBatchBytes)
            {
                yield return batch;
                (batch, bytes) = ([], 0);
            }
            batch.Add(e.Raw);
            bytes += size;
        }
        if (batch.Count > 0) yield return batch;
    }
}
