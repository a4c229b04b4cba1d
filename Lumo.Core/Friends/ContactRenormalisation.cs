using Azure.Data.Tables;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Friends;

/// <summary>What a re-normalisation run found.</summary>
public sealed record RenormalisationResult(int Friends, int PhonesChanged, int PhonesUnreadable, DateTimeOffset FinishedAt);

/// <summary>
/// One-off migration of stored phone numbers to proper E.164 (earlier versions kept the trunk zero: "+81 090…"
/// became <c>+81090…</c>, which matches no Klaviyo profile). Every friend's number is parsed again in its workspace's
/// region and, where it changes, rewritten together with its hashed index row. Idempotent: a second run changes
/// nothing. It runs once at start (recorded in the OperationsStatus table) and on an administrator's request.
/// </summary>
public sealed class ContactRenormalisation(WorkspaceStore workspaces, LineFriendStore friends, LumoTables tables, TimeProvider clock,
    ILogger<ContactRenormalisation> logger)
{
    private const string Partition = "migrations";
    private const string Row = "phone-numbers-e164-v2";

    public async Task<RenormalisationResult?> LastRunIfAnyAsync(CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OperationsStatus, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(Partition, Row, cancellationToken: cancellationToken);
        return row.HasValue
            ? new RenormalisationResult(row.Value!.GetInt32("Friends") ?? 0, row.Value.GetInt32("PhonesChanged") ?? 0, row.Value.GetInt32("PhonesUnreadable") ?? 0,
                row.Value.GetDateTimeOffset("FinishedAt") ?? default)
            : null;
    }

    public async Task<RenormalisationResult> RunAsync(CancellationToken cancellationToken)
    {
        var (checkedFriends, changed, unreadable) = (0, 0, 0);
        foreach (var workspace in await workspaces.ListWorkspacesAsync(cancellationToken))
        foreach (var account in await workspaces.ListAccountsAsync(workspace.Id, cancellationToken))
        await foreach (var friend in friends.ListAsync(workspace.Id, account.Id, linked: null, cancellationToken))
        {
            checkedFriends++;
            if (friend.PhoneNumber is not { } stored) continue;
            var normalised = ContactDetails.NormalisePhone(stored, workspace.DefaultRegion, out _);
            if (normalised is null) unreadable++;
            else if (normalised != stored)
            {
                await friends.SetContactAsync(workspace.Id, account.Id, friend.UserId, null, normalised, cancellationToken);
                changed++;
            }
        }
        var result = new RenormalisationResult(checkedFriends, changed, unreadable, clock.GetUtcNow());
        var table = await tables.GetAsync(TableNames.OperationsStatus, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(Partition, Row)
        {
            ["Friends"] = result.Friends, ["PhonesChanged"] = result.PhonesChanged, ["PhonesUnreadable"] = result.PhonesUnreadable, ["FinishedAt"] = result.FinishedAt,
        }, TableUpdateMode.Replace, cancellationToken);
        logger.LogInformation("Re-normalised phone numbers: {Friends} friends checked, {Changed} changed, {Unreadable} unreadable (left as they were)",
            result.Friends, result.PhonesChanged, result.PhonesUnreadable);
        return result;
    }
}
