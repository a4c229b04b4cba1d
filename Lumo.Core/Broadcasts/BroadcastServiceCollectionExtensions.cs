using Lumo.Core.RichMenus;
using Lumo.Core.Segments;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Core.Broadcasts;

public static class BroadcastServiceCollectionExtensions
{
    /// <summary>Lumo Segments, Message Broadcasts and the rich menus that follow segments. Use cases that call vendors are transient (typed HttpClients).</summary>
    public static IServiceCollection AddLumoBroadcasts(this IServiceCollection services)
    {
        services.AddSingleton<SegmentStore>();
        services.AddTransient<SegmentEvaluator>();
        services.AddTransient<SegmentAdministration>();
        services.AddSingleton<BroadcastStore>();
        services.AddTransient<BroadcastRunner>();
        services.AddTransient<BroadcastChunkSender>();
        services.AddTransient<BroadcastAdministration>();
        services.AddSingleton<RichMenuStore>();
        services.AddTransient<RichMenuAdministration>();
        services.AddTransient<RichMenuSync>();
        return services;
    }
}
