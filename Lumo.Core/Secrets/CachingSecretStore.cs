using Microsoft.Extensions.Caching.Memory;

namespace Lumo.Core.Secrets;

/// <summary>
/// Keeps read secrets in memory for a short time so that hot paths (every LINE or Klaviyo call) do not call
/// Key Vault per request. Writes and deletes through this instance take effect here at once; other instances
/// see them within <see cref="Lifetime"/>.
/// </summary>
public sealed class CachingSecretStore(ISecretStore inner, IMemoryCache cache) : ISecretStore
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    public async Task<string?> GetIfExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        if (cache.TryGetValue(Key(name), out string? cached))
            return cached;
        var value = await inner.GetIfExistsAsync(name, cancellationToken);
        if (value is not null)
            cache.Set(Key(name), value, Lifetime);
        return value;
    }

    public async Task<string?> GetLatestIfExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        cache.Remove(Key(name));
        return await GetIfExistsAsync(name, cancellationToken);
    }

    public async Task SetAsync(string name, string value, CancellationToken cancellationToken = default)
    {
        await inner.SetAsync(name, value, cancellationToken);
        cache.Set(Key(name), value, Lifetime);
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        cache.Remove(Key(name));
        await inner.DeleteAsync(name, cancellationToken);
    }

    private static string Key(string name) => "secret:" + name;
}
