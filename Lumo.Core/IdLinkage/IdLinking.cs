using System.Text.Json.Nodes;
using Lumo.Core.Friends;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.IdLinkage;

/// <summary>How a link came about; shown in the friend's Klaviyo Sync Info and sent with <c>Linked LINE Identity</c>.</summary>
public static class LinkMethods
{
    public const string Admin = "admin";
    public const string QrCode = "qr-code";
    public const string Form = "form";
    public const string FlowControlledForm = "flow-controlled-form";
    public const string Import = "import";
    public const string AutoEmail = "auto-email";
    public const string AutoPhone = "auto-phone";
    public const string AutoEmailAndPhone = "auto-email-and-phone";
    /// <summary>Automatic linking from synced data: the email and phone a Klaviyo pull brought matched the friend's.</summary>
    public const string AutoSyncedData = "auto-synced-data";
    /// <summary>Resync Data: the profile still carried this account's LINE User ID.</summary>
    public const string Resync = "resync";
}

/// <summary>
/// ID linkage: ties a LINE friend of one account to one Klaviyo profile (never overwriting another link), then
/// writes the LINE properties to the profile and records <c>Linked LINE Identity</c>. The event's unique_id comes
/// from the stored link time, so repeating a link (a retried callback, the next import run) records nothing new,
/// and a link whose follow-up was cut short is completed by the next attempt.
/// </summary>
public sealed class IdLinking(LineFriendStore friends, FriendPropertySync propertySync, KlaviyoEventRecorder events, TimeProvider clock, ILogger<IdLinking> logger)
{
    /// <summary>Links and follows up; pushProperties is false when the caller writes the properties of many links in bulk import jobs.</summary>
    public async Task<LinkWrite> LinkAsync(LineAccount account, string userId, string profileId, string how, string? displayName,
        CancellationToken cancellationToken, bool pushProperties = true)
    {
        var write = await friends.LinkAsync(account.WorkspaceId, account.Id, userId, profileId, how, clock.GetUtcNow(), displayName, cancellationToken);
        if (!write.IsLinked)
        {
            logger.LogWarning("Refused to link LINE user {UserId} of account {AccountId} by {How}: {Outcome}", userId, account.Id, how, write.Outcome);
            return write;
        }
        var friend = write.Friend;
        if (write.Outcome == LinkWriteOutcome.Linked)
            logger.LogInformation("Linked LINE user {UserId} of account {AccountId} to Klaviyo profile {ProfileId} by {How}", userId, account.Id, profileId, how);
        await events.RecordAsync(new KlaviyoEvent(account.WorkspaceId, profileId, KlaviyoMetrics.LinkedLineIdentity,
            $"linked:{account.Id}:{userId}:{friend.LinkedAt!.Value.ToUnixTimeMilliseconds()}", friend.LinkedAt.Value,
            new JsonObject { ["Method"] = friend.LinkedHow, ["LINE Account"] = account.Name, ["LINE Account Number"] = account.Ordinal }), cancellationToken);
        if (pushProperties && (write.Outcome == LinkWriteOutcome.Linked || friend.PropertiesSyncedAt is null))
            friend = await propertySync.PushAsync(friend, account, cancellationToken);
        return write with { Friend = friend };
    }
}
