namespace Lumo.Core.Storage;

/// <summary>
/// Where tables and queues live. Reads the same <c>AzureWebJobsStorage</c> setting the Functions host uses:
/// a connection string locally (Azurite), or identity-based settings in Azure
/// (<c>AzureWebJobsStorage__accountName</c>, or <c>__tableServiceUri</c> + <c>__queueServiceUri</c>, with optional
/// <c>__clientId</c> for a user-assigned managed identity).
/// See https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
/// </summary>
public sealed class StorageOptions
{
    public const string ConnectionName = "AzureWebJobsStorage";

    public string? ConnectionString { get; set; }
    public string? AccountName { get; set; }
    public Uri? TableServiceUri { get; set; }
    public Uri? QueueServiceUri { get; set; }
    public string? ClientId { get; set; }

    /// <summary>
    /// Prepended to every table and queue name. Empty in Azure; tests give each run its own prefix so that
    /// they can share one Azurite without seeing each other's rows and messages.
    /// </summary>
    public string NamePrefix { get; set; } = "";

    internal bool UsesIdentity => string.IsNullOrEmpty(ConnectionString);

    internal Uri ResolveTableUri() =>
        TableServiceUri ?? (AccountName is { Length: > 0 } ? new Uri($"https://{AccountName}.table.core.windows.net")
            : throw new InvalidOperationException(MissingMessage));

    internal Uri ResolveQueueUri() =>
        QueueServiceUri ?? (AccountName is { Length: > 0 } ? new Uri($"https://{AccountName}.queue.core.windows.net")
            : throw new InvalidOperationException(MissingMessage));

    internal const string MissingMessage =
        "Storage is not configured: set AzureWebJobsStorage to a connection string (Azurite locally) or " +
        "AzureWebJobsStorage__accountName (identity-based, in Azure).";
}
