using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;

namespace Lumo.Core.FlowSends;

/// <summary>The Flow webhook's authentication key of a workspace, as the admin sees it.</summary>
public sealed record FlowKey(string Value, DateTimeOffset IssuedAt, string IssuedBy);

/// <summary>
/// The per-workspace key Klaviyo Flow webhooks send in <see cref="HeaderName"/>. The value lives in the secret store
/// (the Flow Message Settings view shows it); requests are checked against a SHA-256 hash kept in the workspace's
/// table row — one table read, no Key Vault call per request — so a reissued key replaces the old one on every
/// instance with the very next request.
/// </summary>
public sealed class FlowKeys(LumoTables tables, ISecretStore secrets, TimeProvider clock)
{
    public const string HeaderName = "X-Lumo-Flow-Key";
    private const string Row = "flow-key";

    /// <summary>
    /// The current key. Reading never replaces a key: the first one is issued here with a conditional write (two
    /// simultaneous first reads, on any instances, get the same key), and a value this instance holds in its secret
    /// cache that no longer matches the workspace's row is read again past the cache rather than taken for a broken key.
    /// Throws <see cref="SecretUnavailableException"/> when the row names a key whose secret cannot be read.
    /// </summary>
    public async Task<FlowKey> GetAsync(string workspaceId, string issuedBy, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Workspaces, cancellationToken);
        var (value, row) = await secrets.GetOrIssueAsync(table, workspaceId, Row, SecretNames.FlowKey(workspaceId), () =>
        {
            var first = NewKey(issuedBy);
            return (first.Value, ToRow(workspaceId, first));
        }, "The Flow key of this workspace cannot be read from the secret store. Reissue it to get a new one.", clock, cancellationToken);
        return new FlowKey(value, row.GetDateTimeOffset("IssuedAt") ?? default, row.GetString("IssuedBy") ?? "");
    }

    /// <summary>Issues a new key; the previous one stops working at once.</summary>
    public async Task<FlowKey> ReissueAsync(string workspaceId, string issuedBy, CancellationToken cancellationToken)
    {
        var key = NewKey(issuedBy);
        // The secret first: from the row's change on, every instance accepts only the new key and can read it.
        await secrets.SetAsync(SecretNames.FlowKey(workspaceId), key.Value, cancellationToken);
        var table = await tables.GetAsync(TableNames.Workspaces, cancellationToken);
        await table.UpsertEntityAsync(ToRow(workspaceId, key), TableUpdateMode.Replace, cancellationToken);
        return key;
    }

    private FlowKey NewKey(string issuedBy) =>
        new("lfk_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_'), clock.GetUtcNow(), issuedBy);

    private static TableEntity ToRow(string workspaceId, FlowKey key) => new(workspaceId, Row)
    {
        [SecretIssuance.HashColumn] = SecretIssuance.Hash(key.Value), ["IssuedAt"] = key.IssuedAt, ["IssuedBy"] = key.IssuedBy,
    };

    /// <summary>True when <paramref name="presented"/> is the workspace's current key (constant-time comparison).</summary>
    public async Task<bool> IsValidAsync(string workspaceId, string? presented, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(presented)) return false;
        var table = await tables.GetAsync(TableNames.Workspaces, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, Row, select: [SecretIssuance.HashColumn], cancellationToken: cancellationToken);
        if (!row.HasValue || row.Value!.GetString(SecretIssuance.HashColumn) is not { } stored) return false;
        return CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(stored), SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
    }
}

