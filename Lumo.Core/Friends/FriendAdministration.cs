using Lumo.Core.Workspaces;

namespace Lumo.Core.Friends;

/// <summary>Changes an administrator makes to a friend: contact details, and (until ID linkage) manual linking.</summary>
public sealed class FriendAdministration(WorkspaceStore workspaces, LineFriendStore friends, FriendPropertySync propertySync, TimeProvider clock)
{
    /// <summary>Sets email and/or phone (normalised). Null when the friend or account is unknown.</summary>
    public async Task<LineFriend?> SetContactAsync(string workspaceId, string accountId, string userId, string? email, string? phone, CancellationToken cancellationToken)
    {
        if (await friends.GetIfExistsAsync(workspaceId, accountId, userId, cancellationToken) is null) return null;
        return await friends.UpdateAsync(workspaceId, accountId, userId, f => f with { Email = email ?? f.Email, PhoneNumber = phone ?? f.PhoneNumber }, cancellationToken);
    }

    /// <summary>
    /// Links the friend to a Klaviyo profile and pushes its LINE properties there at once. Refuses (throws
    /// <see cref="LinkConflictException"/>) when the friend is already linked to another profile.
    /// </summary>
    public async Task<LineFriend?> LinkAsync(string workspaceId, string accountId, string userId, string profileId, string how, CancellationToken cancellationToken)
    {
        var account = await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, cancellationToken);
        var friend = await friends.GetIfExistsAsync(workspaceId, accountId, userId, cancellationToken);
        if (account is null || friend is null) return null;
        if (friend.KlaviyoProfileId is { } existing && existing != profileId)
            throw new LinkConflictException($"LINE user {userId} is already linked to Klaviyo profile {existing}. Unlink it first.");
        var now = clock.GetUtcNow();
        friend = await friends.UpdateAsync(workspaceId, accountId, userId,
            f => f.KlaviyoProfileId == profileId ? f : f with { KlaviyoProfileId = profileId, LinkedAt = now, LinkedHow = how }, cancellationToken);
        return await propertySync.PushAsync(friend, account, cancellationToken);
    }

    public async Task<LineFriend?> UnlinkAsync(string workspaceId, string accountId, string userId, CancellationToken cancellationToken)
    {
        if (await friends.GetIfExistsAsync(workspaceId, accountId, userId, cancellationToken) is null) return null;
        return await friends.UpdateAsync(workspaceId, accountId, userId,
            f => f with { KlaviyoProfileId = null, LinkedAt = null, LinkedHow = null, PropertiesSyncedAt = null, PropertiesSyncError = null }, cancellationToken);
    }
}

/// <summary>A link would silently replace another one; refused instead.</summary>
public sealed class LinkConflictException(string message) : Exception(message);
