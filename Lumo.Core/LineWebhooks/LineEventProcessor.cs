using System.Text.Json.Nodes;
using Lumo.Core.Friends;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Line;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.LineWebhooks;

/// <summary>
/// Applies queued LINE events to friend state, the linked Klaviyo profile's LINE properties, and Klaviyo events.
/// Each event is applied once (by webhookEventId); a retry after a failure re-applies only what was not finished,
/// and every effect is idempotent (same state, same profile values, same event unique id).
/// </summary>
public sealed class LineEventProcessor(
    WorkspaceStore workspaces, LineFriendStore friends, LineEventLog log, LineMessagingClient line, FriendPropertySync propertySync,
    KlaviyoEventRecorder events, TimeProvider clock, ILogger<LineEventProcessor> logger)
{
    public async Task<int> ApplyAsync(LineEventBatch batch, CancellationToken cancellationToken)
    {
        var account = await workspaces.GetAccountIfExistsAsync(batch.WorkspaceId, batch.AccountId, cancellationToken);
        if (account is null)
        {
            logger.LogInformation("LINE account {AccountId} was removed; dropping {Count} queued events", batch.AccountId, batch.Events.Count);
            return 0;
        }
        var applied = 0;
        foreach (var e in batch.Events.Select(raw => new LineWebhookEvent(raw)))
        {
            if (await log.WasAppliedAsync(account.WorkspaceId, account.Id, e.WebhookEventId, cancellationToken)) continue;
            switch (e.Type)
            {
                case "follow" when e.UserId is not null:
                    await ApplyFollowAsync(account, e, cancellationToken);
                    break;
                case "unfollow" when e.UserId is not null:
                    await ApplyUnfollowAsync(account, e, cancellationToken);
                    break;
                default:
                    // Messages, postbacks and new event types are for later features; accepted and noted, not failed.
                    logger.LogDebug("LINE event {Type} of account {AccountId} has no handler yet", e.Type, account.Id);
                    break;
            }
            await log.MarkAppliedAsync(account.WorkspaceId, account.Id, e, clock.GetUtcNow(), cancellationToken);
            applied++;
        }
        return applied;
    }

    private async Task ApplyFollowAsync(LineAccount account, LineWebhookEvent e, CancellationToken cancellationToken)
    {
        var profile = await line.GetProfileIfExistsAsync(new LineAccountRef(account.WorkspaceId, account.Id), e.UserId!, cancellationToken);
        var friend = await friends.UpdateAsync(account.WorkspaceId, account.Id, e.UserId!, f => IsNewer(f, e)
            ? f with
            {
                FollowStatus = FollowStatus.Friend,
                Consent = Consent.Granted,
                ConsentUpdatedAt = e.Timestamp,
                ConsentSource = FriendProperties.ConsentSource(account, e.IsUnblocked ? "unblocked" : "followed"),
                DisplayName = profile?.DisplayName ?? f.DisplayName,
                LastEventAt = e.Timestamp,
            }
            : f with { DisplayName = f.DisplayName ?? profile?.DisplayName }, cancellationToken);
        await SyncAndRecordAsync(account, friend, e, KlaviyoMetrics.FollowedLineAccount, new JsonObject { ["Re-follow"] = e.IsUnblocked }, cancellationToken);
    }

    private async Task ApplyUnfollowAsync(LineAccount account, LineWebhookEvent e, CancellationToken cancellationToken)
    {
        var friend = await friends.UpdateAsync(account.WorkspaceId, account.Id, e.UserId!, f => IsNewer(f, e)
            ? f with
            {
                FollowStatus = FollowStatus.Blocked,
                Consent = Consent.Withdrawn,
                ConsentUpdatedAt = e.Timestamp,
                ConsentSource = FriendProperties.ConsentSource(account, "blocked"),
                LastEventAt = e.Timestamp,
            }
            : f, cancellationToken);
        await SyncAndRecordAsync(account, friend, e, KlaviyoMetrics.BlockedLineAccount, [], cancellationToken);
    }

    // LINE may deliver events out of order: state follows the newest event, older ones only add history.
    private static bool IsNewer(LineFriend friend, LineWebhookEvent e) => friend.LastEventAt is null || e.Timestamp >= friend.LastEventAt;

    private async Task SyncAndRecordAsync(LineAccount account, LineFriend friend, LineWebhookEvent e, string metric, JsonObject properties, CancellationToken cancellationToken)
    {
        if (!friend.IsLinked) return; // Klaviyo hears only about ID-linked people
        await propertySync.PushAsync(friend, account, cancellationToken);
        properties["LINE Official Account"] = account.BasicId ?? account.ChannelId;
        properties["LINE Official Account Name"] = account.Name;
        properties[account.PropertyNames.UserId] = friend.UserId;
        await events.RecordAsync(new KlaviyoEvent(account.WorkspaceId, friend.KlaviyoProfileId!, metric,
            $"line:{account.Id}:{e.WebhookEventId}", e.Timestamp, properties), cancellationToken);
    }
}
