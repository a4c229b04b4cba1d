using Azure.Data.Tables;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Friends;

/// <summary>What a re-normalisation run found.</summary>
public sealed record RenormalisationResult(int Friends, int PhonesChanged, int PhonesUnreadable, int IndexRowsRekeyed, DateTimeOffset FinishedAt);

/// <summary>
/// One-off migration of stored contact details. Index rows under the plain hashes of earlier versions move to keyed
/// hashes (<see cref="ContactHasher"/>), and phone numbers move to proper E.164 (earlier versions kept the trunk zero:
/// "+81 090…" became <c>+81090…</c>, which matches no Klaviyo profile): every friend's number is parsed again in its
/// workspace's region and, where it changes, rewritten together with its index row. Idempotent: a second run changes
/// nothing. It runs once at start (recorded in the OperationsStatus table) and on an administrator's request.
/// </summary>
public sealed class ContactRenormalisation(WorkspaceStore workspaces, LineFriendStore friends, LumoTables tables, TimeProvider clock,
    ILogger<ContactRenormalisation> logger)
{
    private const string Partition = "migrations";
    private const string Row = "contacts-e164-keyed-index-v3";

    public async Task<RenormalisationResult?> LastRunIfAnyAsync(CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OperationsStatus, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(Partition, Row, cancellationToken: cancellationToken);
        return row.HasValue
            ? new RenormalisationResult(row.Value!.GetInt32("Friends") ?? 0, row.Value.GetInt32("PhonesChanged") ?? 0, row.Value.GetInt32("PhonesUnreadable") ?? 0,
                row.Value.GetInt32("IndexRowsRekeyed") ?? 0, row.Value.GetDateTimeOffset("FinishedAt") ?? default)
            : null;
    }

    public async Task<RenormalisationResult> RunAsync(CancellationToken cancellationToken)
    {
        var (checkedFriends, changed, unreadable, rekeyed) = (0, 0, 0, 0);
        foreach (var workspace in await workspaces.ListWorkspacesAsync(cancellationToken))
        foreach (var account in await workspaces.ListAccountsAsync(workspace.Id, cancellationToken))
        await foreach (var friend in friends.ListAsync(workspace.Id, account.Id, linked: null, cancellationToken))
        {
            checkedFriends++;
            // Keyed index rows first (for the values as stored), so that a phone rewritten below leaves no legacy row.
            if ((friend.Email is not null || friend.PhoneNumber is not null) && await friends.RekeyContactIndexAsync(friend, cancellationToken)) rekeyed++;
            if (friend.PhoneNumber is not { } stored) continue;
            var normalised = ContactDetails.NormalisePhone(stored, workspace.DefaultRegion, out _);
            if (normalised is null) unreadable++;
            else if (normalised != stored)
            {
                await friends.SetContactAsync(workspace.Id, account.Id, friend.UserId, null, normalised, cancellationToken);
                changed++;
            }
        }
        var result = new RenormalisationResult(checkedFriends, changed, unreadable, rekeyed, clock.GetUtcNow());
        var table = await tables.GetAsync(TableNames.OperationsStatus, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(Partition, Row)
        {
            ["Friends"] = result.Friends, ["PhonesChanged"] = result.PhonesChanged, ["PhonesUnreadable"] = result.PhonesUnreadable,
            ["IndexRowsRekeyed"] = result.IndexRowsRekeyed, ["FinishedAt"] = result.FinishedAt,
        }, TableUpdateMode.Replace, cancellationToken);
        logger.LogInformation("Contact migration: {Friends} friends checked, {Changed} phone numbers changed, {Unreadable} unreadable (left as they were), {Rekeyed} friends' index rows moved to keyed hashes",
            result.Friends, result.PhonesChanged, result.PhonesUnreadable, result.IndexRowsRekeyed);
        return result;
    }
}
