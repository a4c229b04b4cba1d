using Lumo.Core.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Core.Shopify;

public static class ShopifyServiceCollectionExtensions
{
    /// <summary>The Shopify app: options (validated at start), the Admin API client, product sync, feeds and the app webhooks.</summary>
    public static IServiceCollection AddLumoShopify(this IServiceCollection services)
    {
        services.AddOptions<ShopifyOptions>().BindConfiguration(ShopifyOptions.Section)
            .Validate(o => ShopifyOptions.Problem(o) is null, "Lumo:Shopify: ClientSecret is required with ClientId, AdminUrlTemplate is an http(s) URL with {shop}, BestSellersWindow is 1 to 60 days, FeedRebuildDelay 0 to 10 minutes.")
            .ValidateOnStart();
        services.AddSingleton<ShopifyCostPacer>();
        services.AddHttpClient<ShopifyClient>()
            .AddLumoResilience(request => request.Options.TryGetValue(ShopifyClient.ShopKey, out var shop) ? shop : "");
        services.AddSingleton<ShopifyConnectionStore>();
        services.AddSingleton<ShopifyProductStore>();
        services.AddSingleton<ShopifyFeedStore>();
        // Use cases holding the typed client are transient (a singleton would capture its HttpClient).
        services.AddTransient<ShopifyInstallation>();
        services.AddTransient<ShopifyProductSync>();
        services.AddTransient<ShopifyFeedBuilder>();
        services.AddTransient<ShopifyStoreLifecycle>();
        services.AddTransient<ShopifyWork>();
        services.AddSingleton<ShopifyWebhookIntake>();
        return services;
    }
}
