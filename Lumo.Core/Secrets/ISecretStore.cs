namespace Lumo.Core.Secrets;

/// <summary>
/// Where channel secrets, access tokens and API keys live: Azure Key Vault in Azure, a development store locally.
/// Secret values never go to tables, logs or API answers.
/// </summary>
public interface ISecretStore
{
    /// <summary>The value, or null when no secret has that name.</summary>
    Task<string?> GetIfExistsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The value as the store holds it now, past any cache (for when a cached value is known to be stale).</summary>
    Task<string?> GetLatestIfExistsAsync(string name, CancellationToken cancellationToken = default) => GetIfExistsAsync(name, cancellationToken);

    Task SetAsync(string name, string value, CancellationToken cancellationToken = default);

    /// <summary>Removes the secret; a missing secret is not an error.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken = default);
}
