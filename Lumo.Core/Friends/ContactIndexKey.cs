using System.Security.Cryptography;
using System.Text;
using Azure;
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
}

/// <summary>
/// The per-deployment key of the contact index (email/phone index rows and form-linkage arms), kept in Key Vault (or
/// the development store) as <c>lumo-contact-index-key</c> and issued exactly once across instances: a conditional
/// write of its fingerprint decides which instance's key it is, and only that instance writes the secret.
/// </summary>
public sealed class ContactIndexKey(ISecretStore secrets, LumoTables tables, TimeProvider clock)
{
    public const string SecretName = "lumo-contact-index-key";
    private const string Partition = "keys";
    private const string Row = "contact-index";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ContactHasher? _hasher;

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
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var row = await table.GetEntityIfExistsAsync<TableEntity>(Partition, Row, cancellationToken: cancellationToken);
            if (!row.HasValue)
            {
                var key = RandomNumberGenerator.GetBytes(32);
                try
                {
                    await table.AddEntityAsync(new TableEntity(Partition, Row) { ["Fingerprint"] = Fingerprint(key), ["IssuedAt"] = clock.GetUtcNow() }, cancellationToken);
                }
                catch (RequestFailedException e) when (e.Status == 409)
                {
                    continue; // another instance issued it first: use theirs
                }
                await secrets.SetAsync(SecretName, Convert.ToBase64String(key), cancellationToken);
                return key;
            }
            var stored = await secrets.GetLatestIfExistsAsync(SecretName, cancellationToken);
            if (stored is not null && Fingerprint(Convert.FromBase64String(stored)) == row.Value!.GetString("Fingerprint"))
                return Convert.FromBase64String(stored);
            await Task.Delay(TimeSpan.FromMilliseconds(100 * (attempt + 1)), clock, cancellationToken); // being written by its issuer
        }
        throw new InvalidOperationException($"The contact index key ({SecretName}) is recorded as issued but cannot be read from the secret store.");
    }

    private static string Fingerprint(byte[] key) => Convert.ToHexString(SHA256.HashData(key))[..16];
}
