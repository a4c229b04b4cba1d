using Azure;
using Azure.Security.KeyVault.Secrets;

namespace Lumo.Core.Secrets;

/// <summary>
/// <see cref="ISecretStore"/> on Azure Key Vault
/// (https://learn.microsoft.com/azure/key-vault/secrets/quick-create-net).
/// </summary>
public sealed class KeyVaultSecretStore(SecretClient client) : ISecretStore
{
    public async Task<string?> GetIfExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await client.GetSecretAsync(name, null, cancellationToken);
            return response.Value.Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task SetAsync(string name, string value, CancellationToken cancellationToken = default) =>
        await client.SetSecretAsync(name, value, cancellationToken);

    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            // Soft delete keeps the value recoverable for the vault's retention period; that is the point of it.
            await client.StartDeleteSecretAsync(name, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
    }
}
