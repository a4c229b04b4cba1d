using Lumo.Core.Connections;
using Lumo.Core.Friends;
using Lumo.Core.Klaviyo;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.IdLinkage;

/// <summary>
/// Auto-link by email or phone: when a friend's contact details arrive, the Klaviyo profile with the same email
/// or phone is linked (with both on the friend, both must match the same profile). Nothing happens when no profile
/// matches, or when the friend is already linked.
/// </summary>
public sealed class AutoLinking(KlaviyoProfileResolver resolver, IdLinking linking, KlaviyoConnectionHealth health, ILogger<AutoLinking> logger)
{
    public async Task<LineFriend> TryLinkAsync(LineAccount account, LineFriend friend, CancellationToken cancellationToken)
    {
        if (friend.IsLinked || (friend.Email is null && friend.PhoneNumber is null)) return friend;
        ProfileMatch match;
        try
        {
            match = await resolver.ResolveAsync(account.WorkspaceId, friend.Email, friend.PhoneNumber, cancellationToken);
        }
        catch (KlaviyoApiException e)
        {
            await health.PauseIfRefusedAsync(account.WorkspaceId, "auto-link look-up", e, cancellationToken);
            // The contact details are saved either way; the next change (or an administrator) can link later.
            logger.LogWarning("Could not look up Klaviyo profiles to auto-link LINE user {UserId}: {Status} {Message}", friend.UserId, e.Status, e.Message);
            return friend;
        }
        if (match.ProfileId is null) return friend;
        var how = (friend.Email, friend.PhoneNumber) switch
        {
            (not null, not null) => LinkMethods.AutoEmailAndPhone,
            (not null, null) => LinkMethods.AutoEmail,
            _ => LinkMethods.AutoPhone,
        };
        var result = await linking.LinkAsync(account, friend.UserId, match.ProfileId, how, friend.DisplayName, cancellationToken);
        return result.Friend;
    }
}
