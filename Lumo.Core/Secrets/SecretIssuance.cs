using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;

namespace Lumo.Core.Secrets;

/// <summary>A secret is recorded as issued, but its value cannot be read from the secret store (lost, or its issue was cut short).</summary>
public sealed class SecretUnavailableException(string message) : Exception(message);

/// <summary>
/// A secret that exists exactly once across instances (a workspace's Flow key, the contact index key). A table row
/// holds the SHA-256 of the value (<c>Hash</c>); the first issue writes that row conditionally and only its writer
/// writes the secret, so two simultaneous first reads agree. A reader whose cached value no longer matches the row
/// reads the store again past the cache instead of taking the key for broken.
/// </summary>
public static class SecretIssuance
{
    public const string HashColumn = "Hash";

    public static string Hash(string value) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    /// <summary>
    /// The current value and its row, issuing <paramref name="issue"/>'s value (with the row it gives, which must carry
    /// <see cref="HashColumn"/>) when there is none yet. Throws <see cref="SecretUnavailableException"/> with
    /// <paramref name="unavailable"/> when the row names a value the store cannot give.
    /// </summary>
    public static async Task<(string Value, TableEntity Row)> GetOrIssueAsync(this ISecretStore secrets, TableClient table, string partitionKey, string rowKey,
        string secretName, Func<(string Value, TableEntity Row)> issue, string unavailable, TimeProvider clock, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var row = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken);
            if (!row.HasValue)
            {
                var first = issue();
                try
                {
                    await table.AddEntityAsync(first.Row, cancellationToken); // the row first, conditionally
                }
                catch (RequestFailedException e) when (e.Status == 409)
                {
                    continue; // another instance issued it first: read theirs
                }
                await secrets.SetAsync(secretName, first.Value, cancellationToken);
                return first;
            }
            var value = attempt == 0 ? await secrets.GetIfExistsAsync(secretName, cancellationToken) : await secrets.GetLatestIfExistsAsync(secretName, cancellationToken);
            if (value is not null && Hash(value) == row.Value!.GetString(HashColumn)) return (value, row.Value);
            // A stale cache, or an issue or reissue under way on another instance: look again shortly.
            if (attempt > 0) await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), clock, cancellationToken);
        }
        throw new SecretUnavailableException(unavailable);
    }
}
