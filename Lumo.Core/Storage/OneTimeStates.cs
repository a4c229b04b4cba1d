using Azure;
using Azure.Data.Tables;

namespace Lumo.Core.Storage;

/// <summary>
/// Table <c>OAuthStates</c>: the one-time <c>state</c> of an authorization redirect (Klaviyo's app consent, a Shopify
/// install), partition = what it is for, row key = the state, with what the callback needs and when it expires. A
/// callback claims it (deletes it under its ETag) before anything else, so a replayed or forged callback, or a second
/// one racing the first, finds nothing. The retention sweep deletes states never used.
/// </summary>
public sealed class OneTimeStates(LumoTables tables, TimeProvider clock)
{
    public async Task IssueAsync(string purpose, string state, DateTimeOffset expiresAt, IReadOnlyDictionary<string, string> values, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(purpose, state) { ["ExpiresAt"] = expiresAt };
        foreach (var (name, value) in values) entity[name] = value;
        var table = await tables.GetAsync(TableNames.OAuthStates, cancellationToken);
        await table.AddEntityAsync(entity, cancellationToken);
    }

    /// <summary>What the state was issued with, once; null when it is unknown, already claimed or expired.</summary>
    public async Task<IReadOnlyDictionary<string, string>?> ClaimAsync(string purpose, string state, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OAuthStates, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(purpose, state, cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        try
        {
            await table.DeleteEntityAsync(purpose, state, row.Value!.ETag, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null; // another callback claimed it first
        }
        if (row.Value.GetDateTimeOffset("ExpiresAt") is not { } expiresAt || expiresAt <= clock.GetUtcNow()) return null;
        return row.Value.Where(p => p.Value is string).ToDictionary(p => p.Key, p => (string)p.Value);
    }
}
