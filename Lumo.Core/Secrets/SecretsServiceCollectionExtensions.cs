using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Secrets;

public static class SecretsServiceCollectionExtensions
{
    public const string VaultUriSetting = "Lumo:KeyVault:VaultUri";

    /// <summary>Key Vault when <c>Lumo:KeyVault:VaultUri</c> is set, the development store otherwise.</summary>
    public static IServiceCollection AddLumoSecrets(this IServiceCollection services)
    {
        services.AddMemoryCache();
        services.AddSingleton<ISecretStore>(provider =>
        {
            var configuration = provider.GetRequiredService<IConfiguration>();
            var vaultUri = configuration[VaultUriSetting];
            var clientId = configuration["Lumo:KeyVault:ClientId"];
            var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("Lumo.Secrets");
            ISecretStore backend;
            if (string.IsNullOrWhiteSpace(vaultUri))
            {
                logger.LogWarning("No Key Vault configured ({Setting} is empty): secrets are kept in the DEVELOPMENT secret store (an Azurite table). Never run like this in production.", VaultUriSetting);
                backend = ActivatorUtilities.CreateInstance<DevelopmentSecretStore>(provider);
            }
            else
            {
                logger.LogInformation("Secrets are kept in Azure Key Vault {VaultUri}", vaultUri);
                backend = new KeyVaultSecretStore(new SecretClient(new Uri(vaultUri), AzureCredentials.Create(clientId)));
            }
            return new CachingSecretStore(backend, provider.GetRequiredService<IMemoryCache>());
        });
        return services;
    }
}
