using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;

namespace Lumo.Core.Friends;

/// <summary>Hashes normalised emails and phone numbers for index keys with the deployment's key.</summary>
public sealed class ContactHasher(byte[] key)
{
    /// <summary>
    /// HMAC-SHA256 under a key only this deployment holds: unlike a plain hash, nobody who sees the tables can test
    /// guessed addresses or enumerate phone numbers against the keys.
    /// </summary>
    public string Hash(string normalised) => Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes("lumo-contact\n" + normalised)))[..40];

    /// <summary>
    /// A key for another purpose, derived from this one (HMAC as a key-derivation function, one label per purpose),
    /// so that one issued secret serves several uses and no derived value can be mistaken for another.
    /// </summary>
    public byte[] DeriveKey(string purpose) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes("lumo-derived-key\n" + purpose));
}

/// <summary>
/// The per-deployment key of the contact index (email/phone index rows and form-linkage arms), kept in Key Vault (or
/// the development store) as <c>lumo-contact-index-key</c> and issued exactly once across instances
/// (<see cref="SecretIssuance"/>).
/// </summary>
public sealed class ContactIndexKey(ISecretStore secrets, LumoTables tables, TimeProvider clock)
{
    public const string SecretName = "lumo-contact-index-key";
    private const string Partition = "keys";
    private const string Row = "contact-index";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte[]> _derived = new();
    private ContactHasher? _hasher;

    /// <summary>The key for <paramref name="purpose"/> derived from this one (<see cref="ContactHasher.DeriveKey"/>), computed once per purpose.</summary>
    public async ValueTask<byte[]> DerivedKeyAsync(string purpose, CancellationToken cancellationToken)
    {
        if (_derived.TryGetValue(purpose, out var key)) return key;
        var hasher = await GetAsync(cancellationToken);
        return _derived.GetOrAdd(purpose, hasher.DeriveKey);
    }

    public async ValueTask<ContactHasher> GetAsync(CancellationToken cancellationToken)
    {
        if (_hasher is { } ready) return ready;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return _hasher ??= new ContactHasher(await LoadOrIssueAsync(cancellationToken));
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<byte[]> LoadOrIssueAsync(CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OperationsStatus, cancellationToken);
        var (value, _) = await secrets.GetOrIssueAsync(table, Partition, Row, SecretName, () =>
        {
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            return (key, new TableEntity(Partition, Row) { [SecretIssuance.HashColumn] = SecretIssuance.Hash(key), ["IssuedAt"] = clock.GetUtcNow() });
        }, $"The contact index key ({SecretName}) is recorded as issued but cannot be read from the secret store.", clock, cancellationToken);
        return Convert.FromBase64String(value);
    }
}
