using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Core.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>Registers Table and Queue clients from the <c>AzureWebJobsStorage</c> settings.</summary>
    public static IServiceCollection AddLumoStorage(this IServiceCollection services)
    {
        // Read when first needed, not now: hosts (and test factories) may still add configuration after this call.
        services.AddSingleton(provider => ReadOptions(provider.GetRequiredService<IConfiguration>()));
        services.AddSingleton(provider => provider.GetRequiredService<StorageOptions>() is var options && options.UsesIdentity
            ? new TableServiceClient(options.ResolveTableUri(), Credential(options), TableOptions())
            : new TableServiceClient(options.ConnectionString, TableOptions()));
        services.AddSingleton(provider => provider.GetRequiredService<StorageOptions>() is var options && options.UsesIdentity
            ? new QueueServiceClient(options.ResolveQueueUri(), Credential(options), QueueOptions())
            : new QueueServiceClient(options.ConnectionString, QueueOptions()));
        services.AddSingleton<LumoTables>();
        services.AddSingleton<LumoQueues>();
        return services;
    }

    internal static StorageOptions ReadOptions(IConfiguration configuration)
    {
        var section = configuration.GetSection(StorageOptions.ConnectionName);
        var options = new StorageOptions
        {
            ConnectionString = section.Value,
            AccountName = section["accountName"],
            TableServiceUri = section["tableServiceUri"] is { Length: > 0 } t ? new Uri(t) : null,
            QueueServiceUri = section["queueServiceUri"] is { Length: > 0 } q ? new Uri(q) : null,
            ClientId = section["clientId"],
            NamePrefix = configuration["Lumo:Storage:NamePrefix"] ?? "",
        };
        if (string.IsNullOrEmpty(options.ConnectionString) && options.AccountName is null && (options.TableServiceUri is null || options.QueueServiceUri is null))
            throw new InvalidOperationException(StorageOptions.MissingMessage);
        return options;
    }

    private static QueueClientOptions QueueOptions()
    {
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        options.AddPolicy(StorageRequestMetrics.Queues, HttpPipelinePosition.PerRetry);
        return options;
    }

    private static TableClientOptions TableOptions()
    {
        var options = new TableClientOptions();
        options.AddPolicy(StorageRequestMetrics.Tables, HttpPipelinePosition.PerRetry);
        return options;
    }

    private static TokenCredential Credential(StorageOptions options) => AzureCredentials.Create(options.ClientId);
}
