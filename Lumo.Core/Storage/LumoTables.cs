using Azure.Data.Tables;

namespace Lumo.Core.Storage;

/// <summary>
/// Hands out <see cref="TableClient"/>s by logical name, creating each table once per process.
/// </summary>
public sealed class LumoTables(TableServiceClient service, StorageOptions options)
{
    private readonly CreateOnce<TableClient> _tables = new();

    public string PhysicalName(string logicalName) => options.NamePrefix + logicalName;

    public Task<TableClient> GetAsync(string logicalName, CancellationToken cancellationToken = default) =>
        _tables.GetAsync(logicalName, async name =>
        {
            var client = service.GetTableClient(PhysicalName(name));
            await client.CreateIfNotExistsAsync(CancellationToken.None);
            return client;
        }, cancellationToken);
}
