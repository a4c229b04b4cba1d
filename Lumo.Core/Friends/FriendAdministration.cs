using Lumo.Core.IdLinkage;
using Lumo.Core.Workspaces;

namespace Lumo.Core.Friends;

/// <summary>Changes an administrator makes to a friend: contact details, and linking by hand.</summary>
public sealed class FriendAdministration(WorkspaceStore workspaces, LineFriendStore friends, IdLinking linking, AutoLinking autoLinking)
{
    /// <summary>
    /// Sets email and/or phone (normalised), then auto-links an unlinked friend to the Klaviyo profile with the
    /// same details. Null when the friend or account is unknown.
    /// </summary>
    public async Task<LineFriend?> SetContactAsync(string workspaceId, string accountId, string userId, string? email, string? phone, CancellationToken cancellationToken)
    {
        var account = await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, cancellationToken);
        if (account is null || await friends.SetContactAsync(workspaceId, accountId, userId, email, phone, cancellationToken) is not { } friend) return null;
        return await autoLinking.TryLinkAsync(account, friend, cancellationToken);
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
        var result = await linking.LinkAsync(account, userId, profileId, how, null, cancellationToken);
        return result.IsLinked ? result.Friend : throw new LinkConflictException(result.ConflictMessage);
    }

    public Task<LineFriend?> UnlinkAsync(string workspaceId, string accountId, string userId, CancellationToken cancellationToken) =>
        friends.UnlinkAsync(workspaceId, accountId, userId, cancellationToken);
}

/// <summary>A link would silently replace another one; refused instead.</summary>
public sealed class LinkConflictException(string message) : Exception(message);
