using Azure.Data.Tables;
using Lumo.Core.Friends;
using Lumo.Core.Storage;

namespace Lumo.Core.IdLinkage;

/// <summary>
/// Flow-controlled Form ID linkage: a Klaviyo Flow (Submitted Form, or Subscribed to List after double opt-in)
/// arms linking for one profile; until then a form submission with that email or phone does not link. Keys are
/// hashes of the normalised email/phone, never the raw values.
/// </summary>
public sealed class FormLinkArms(LumoTables tables, ContactIndexKey indexKey, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(7);


    public async Task ArmAsync(string workspaceId, string accountId, string profileId, string? email, string? phone, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.FormLinkArms, cancellationToken);
        var hasher = await indexKey.GetAsync(cancellationToken);
        var expiresAt = clock.GetUtcNow() + Lifetime;
        var rows = new[] { ("email", email), ("phone", phone) }.Where(s => s.Item2 is not null)
            .Select(s => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(AccountPartition.Of(workspaceId, accountId), ArmRow(hasher, s.Item1, s.Item2!))
            {
                ["ProfileId"] = profileId, ["ExpiresAt"] = expiresAt,
            }));
        await table.SubmitTransactionAsync(rows, cancellationToken);
    }

    /// <summary>Uses up an arm: the rows found for a linking attempt go once it has linked.</summary>
    public async Task DisarmRowsAsync(string workspaceId, string accountId, IEnumerable<string> rowKeys, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.FormLinkArms, cancellationToken);
        foreach (var rowKey in rowKeys)
            await table.DeleteEntityAsync(AccountPartition.Of(workspaceId, accountId), rowKey, Azure.ETag.All, cancellationToken);
    }

    /// <summary>Removes the arms of this email and/or phone (a person's erasure).</summary>
    public async Task DisarmAsync(string workspaceId, string accountId, string? email, string? phone, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.FormLinkArms, cancellationToken);
        var hasher = await indexKey.GetAsync(cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        foreach (var (kind, value) in new[] { ("email", email), ("phone", phone) }.Where(s => s.Item2 is not null))
        {
            await table.DeleteEntityAsync(partition, ArmRow(hasher, kind, value!), Azure.ETag.All, cancellationToken);
            await table.DeleteEntityAsync(partition, LegacyArmRow(kind, value!), Azure.ETag.All, cancellationToken);
        }
    }

    /// <summary>
    /// The profile armed for this submission, or null. With both email and phone, both must have been armed for the
    /// same profile.
    /// </summary>
    public async Task<(string? ProfileId, string[] RowKeys)> FindArmedProfileAsync(string workspaceId, string accountId, string? email, string? phone, CancellationToken cancellationToken)
    {
        var rowKeys = new List<string>();
        var table = await tables.GetAsync(TableNames.FormLinkArms, cancellationToken);
        var hasher = await indexKey.GetAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var profiles = new List<string?>();
        foreach (var (kind, value) in new[] { ("email", email), ("phone", phone) }.Where(s => s.Item2 is not null))
        {
            var partition = AccountPartition.Of(workspaceId, accountId);
            var row = await table.GetEntityIfExistsAsync<TableEntity>(partition, ArmRow(hasher, kind, value!), cancellationToken: cancellationToken);
            // Arms made before the keyed hash live at most 7 days: until then they are found under the plain hash too.
            if (!row.HasValue)
                row = await table.GetEntityIfExistsAsync<TableEntity>(partition, LegacyArmRow(kind, value!), cancellationToken: cancellationToken);
            profiles.Add(row.HasValue && row.Value!.GetDateTimeOffset("ExpiresAt") > now ? row.Value.GetString("ProfileId") : null);
            if (row.HasValue) rowKeys.Add(row.Value!.RowKey);
        }
        return profiles.Count > 0 && profiles.All(p => p is not null && p == profiles[0]) ? (profiles[0], rowKeys.ToArray()) : (null, []);
    }

    private static string ArmRow(ContactHasher hasher, string kind, string value) => $"{kind}:{hasher.Hash(value)}";

    // Arms made before the keyed hash (they expire within 7 days of the upgrade).
    private static string LegacyArmRow(string kind, string value) => $"{kind}:{ContactDetails.LegacyIndexHash(value)}";
}
