using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.Secrets;

/// <summary>
/// Local stand-in for Key Vault: secrets in an Azurite table so that every local process sees the same values.
/// Used only when no vault URI is configured, and announced in the log at start-up.
/// </summary>
public sealed class DevelopmentSecretStore(LumoTables tables) : ISecretStore
{
    private const string Partition = "secret";

    public async Task<string?> GetIfExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        var table = await tables.GetAsync(TableNames.DevelopmentSecrets, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(Partition, name, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value!.GetString("Value") : null;
    }

    public async Task SetAsync(string name, string value, CancellationToken cancellationToken = default)
    {
        var table = await tables.GetAsync(TableNames.DevelopmentSecrets, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(Partition, name) { ["Value"] = value }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        var table = await tables.GetAsync(TableNames.DevelopmentSecrets, cancellationToken);
        await table.DeleteEntityAsync(Partition, name, ETag.All, cancellationToken);
    }
}
