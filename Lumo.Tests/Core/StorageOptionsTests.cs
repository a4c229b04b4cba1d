using Lumo.Core.Storage;
using Microsoft.Extensions.Configuration;

namespace Lumo.Tests.Core;

/// <summary>The same settings the Functions host reads: a connection string locally, identity-based in Azure.</summary>
public sealed class StorageOptionsTests
{
    private static StorageOptions Read(Dictionary<string, string?> settings) =>
        StorageServiceCollectionExtensions.ReadOptions(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());

    [Fact]
    public void IdentityBasedSettingsNameTheAccountsTableAndQueueEndpoints()
    {
        var options = Read(new()
        {
            ["AzureWebJobsStorage:accountName"] = "lumoprod",
            ["AzureWebJobsStorage:credential"] = "managedidentity",
            ["AzureWebJobsStorage:clientId"] = "11111111-2222-3333-4444-555555555555",
        });

        Assert.True(options.UsesIdentity);
        Assert.Equal(new Uri("https://lumoprod.table.core.windows.net"), options.ResolveTableUri());
        Assert.Equal(new Uri("https://lumoprod.queue.core.windows.net"), options.ResolveQueueUri());
        Assert.Equal("11111111-2222-3333-4444-555555555555", options.ClientId);
    }

    [Fact]
    public void ExplicitServiceUrisWinOverTheAccountName()
    {
        var options = Read(new()
        {
            ["AzureWebJobsStorage:tableServiceUri"] = "https://tables.example.net",
            ["AzureWebJobsStorage:queueServiceUri"] = "https://queues.example.net",
        });

        Assert.Equal(new Uri("https://tables.example.net"), options.ResolveTableUri());
        Assert.Equal(new Uri("https://queues.example.net"), options.ResolveQueueUri());
    }

    [Fact]
    public void AConnectionStringIsUsedAsIs()
    {
        var options = Read(new() { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" });
        Assert.False(options.UsesIdentity);
        Assert.Equal("UseDevelopmentStorage=true", options.ConnectionString);
    }

    [Fact]
    public void NoStorageSettingStopsTheAppWithAMessageNamingTheSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Read([]));
        Assert.Contains("AzureWebJobsStorage", error.Message);
    }
}
