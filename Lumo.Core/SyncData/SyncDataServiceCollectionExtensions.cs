using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Core.SyncData;

public static class SyncDataServiceCollectionExtensions
{
    /// <summary>Sync Data: its run history, the follower snapshot and the consent refresh.</summary>
    public static IServiceCollection AddLumoSyncData(this IServiceCollection services)
    {
        services.AddSingleton<SyncRunHistory>();
        services.AddSingleton<LineFollowerSnapshot>();
        services.AddTransient<ConsentRefresh>();
        return services;
    }
}
