using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Core.SyncData;

public static class SyncDataServiceCollectionExtensions
{
    /// <summary>Sync Data: its run history, sync rules, the Klaviyo pull, the follower snapshot and the consent refresh.</summary>
    public static IServiceCollection AddLumoSyncData(this IServiceCollection services)
    {
        services.AddSingleton<SyncRunHistory>();
        services.AddSingleton<LineFollowerSnapshot>();
        services.AddTransient<ConsentRefresh>();
        services.AddTransient<SyncRules>();
        services.AddTransient<KlaviyoProfilePull>();
        return services;
    }
}
