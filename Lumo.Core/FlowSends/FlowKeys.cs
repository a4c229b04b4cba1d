using System.Security.Cryptography;
using System.Text;
using Azure;
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

    /// <summary>The current key, issuing the first one when the workspace has none.</summary>
    public async Task<FlowKey> GetOrIssueAsync(string workspaceId, string issuedBy, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Workspaces, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, Row, cancellationToken: cancellationToken);
        var value = row.HasValue ? await secrets.GetIfExistsAsync(SecretNames.FlowKey(workspaceId), cancellationToken) : null;
        if (row.HasValue && value is not null && Hash(value) == row.Value!.GetString("Hash"))
            return new FlowKey(value, row.Value.GetDateTimeOffset("IssuedAt") ?? default, row.Value.GetString("IssuedBy") ?? "");
        return await ReissueAsync(workspaceId, issuedBy, cancellationToken);
    }

    /// <summary>Issues a new key; the previous one stops working at once.</summary>
    public async Task<FlowKey> ReissueAsync(string workspaceId, string issuedBy, CancellationToken cancellationToken)
    {
        var key = new FlowKey("lfk_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
            clock.GetUtcNow(), issuedBy);
        await secrets.SetAsync(SecretNames.FlowKey(workspaceId), key.Value, cancellationToken);
        var table = await tables.GetAsync(TableNames.Workspaces, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(workspaceId, Row)
        {
            ["Hash"] = Hash(key.Value), ["IssuedAt"] = key.IssuedAt, ["IssuedBy"] = issuedBy,
        }, TableUpdateMode.Replace, cancellationToken);
        return key;
    }

    /// <summary>True when <paramref name="presented"/> is the workspace's current key (constant-time comparison).</summary>
    public async Task<bool> IsValidAsync(string workspaceId, string? presented, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(presented)) return false;
        var table = await tables.GetAsync(TableNames.Workspaces, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, Row, select: ["Hash"], cancellationToken: cancellationToken);
        if (!row.HasValue || row.Value!.GetString("Hash") is not { } stored) return false;
        return CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(stored), SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
    }

    /// <summary>Forgets the key (workspace deleted).</summary>
    public async Task DeleteAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Workspaces, cancellationToken);
        await table.DeleteEntityAsync(workspaceId, Row, ETag.All, cancellationToken);
        await secrets.DeleteAsync(SecretNames.FlowKey(workspaceId), cancellationToken);
    }

    private static string Hash(string value) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
