using System.Security.Cryptography;
using System.Text;
using Lumo.Core.FlowSends;
using Lumo.Core.Friends;
using Lumo.Core.IdLinkage;
using Lumo.Core.Workspaces;

namespace Lumo.Core.Privacy;

/// <summary>What a person's erasure removed.</summary>
public sealed record PersonErasureResult(int FriendsErased, int SendsDeleted);

/// <summary>
/// A person's erasure request, across the LINE accounts of a workspace: by LINE user id, or by the Klaviyo profile
/// a LINE user is linked to. The link (and its claim), display name, email and phone (and their index rows and arms)
/// and the sends to that person are removed; the friend row keeps only its follow status, consent and newest event
/// time, so that a later follow or block from LINE is still applied correctly. Recorded in the erasure log under a
/// fingerprint of the id, never the id itself. Data already in Klaviyo stays there (erase it in Klaviyo).
/// </summary>
public sealed class PersonErasure(WorkspaceStore workspaces, LineFriendStore friends, LineSendStore sends, FormLinkArms arms, TenantDataErasure log)
{
    public async Task<PersonErasureResult> EraseLineUserAsync(string workspaceId, string userId, string erasedBy, CancellationToken cancellationToken)
    {
        var erased = 0;
        foreach (var account in await workspaces.ListAccountsAsync(workspaceId, cancellationToken))
            erased += await EraseFriendAsync(account, userId, cancellationToken) ? 1 : 0;
        var sendsDeleted = await sends.DeleteToRecipientAsync(workspaceId, userId, cancellationToken);
        await log.RecordAsync(workspaceId, $"person: LINE user {Fingerprint(userId)}", erased + sendsDeleted, erasedBy, cancellationToken);
        return new PersonErasureResult(erased, sendsDeleted);
    }

    public async Task<PersonErasureResult> EraseKlaviyoProfileAsync(string workspaceId, string profileId, string erasedBy, CancellationToken cancellationToken)
    {
        var (erased, sendsDeleted) = (0, 0);
        foreach (var account in await workspaces.ListAccountsAsync(workspaceId, cancellationToken))
        {
            if (await friends.FindLinkedUserAsync(workspaceId, account.Id, profileId, cancellationToken) is not { } userId) continue;
            erased += await EraseFriendAsync(account, userId, cancellationToken) ? 1 : 0;
            sendsDeleted += await sends.DeleteToRecipientAsync(workspaceId, userId, cancellationToken);
        }
        await log.RecordAsync(workspaceId, $"person: Klaviyo profile {Fingerprint(profileId)}", erased + sendsDeleted, erasedBy, cancellationToken);
        return new PersonErasureResult(erased, sendsDeleted);
    }

    /// <summary>The linked Klaviyo profile no longer exists: the friend's link and contact data go with it.</summary>
    public async Task EraseGoneProfileAsync(LineAccount account, string userId, CancellationToken cancellationToken)
    {
        if (await EraseFriendAsync(account, userId, cancellationToken))
            await log.RecordAsync(account.WorkspaceId, $"link of LINE user {Fingerprint(userId)} in account {account.Id}: the Klaviyo profile no longer exists", 1,
                "Lumo (Klaviyo answered 404)", cancellationToken);
    }

    private async Task<bool> EraseFriendAsync(LineAccount account, string userId, CancellationToken cancellationToken)
    {
        var before = await friends.EraseAsync(account.WorkspaceId, account.Id, userId, cancellationToken);
        if (before is null) return false;
        await arms.DisarmAsync(account.WorkspaceId, account.Id, before.Email, before.PhoneNumber, cancellationToken);
        return true;
    }

    private static string Fingerprint(string id) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..12];
}
