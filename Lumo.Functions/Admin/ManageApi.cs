using Lumo.Functions.AdminPage;
using Lumo.Functions.Broadcasts;
using Lumo.Functions.Connections;
using Lumo.Functions.Shopify;
using Lumo.Functions.Friends;
using Lumo.Functions.Hosting;
using Lumo.Functions.Operations;
using Lumo.Functions.Privacy;
using Lumo.Functions.SyncData;

namespace Lumo.Functions.Admin;

/// <summary>The admin HTTP API under <c>/api/manage</c> (function ManageApi, <c>authLevel: admin</c>).</summary>
public static class ManageApi
{
    public const string RoutePrefix = "/api/manage";

    public static IServiceCollection AddManageApi(this IServiceCollection services, HostingMode mode)
    {
        var options = services.AddOptions<AdminKeyOptions>().BindConfiguration(AdminKeyOptions.Section);
        if (mode.IsStandalone)
            options.Validate(o => o.Key is { Length: >= AdminKeyOptions.MinimumLength },
                    $"Standalone mode needs an admin key: set Lumo__Admin__Key to at least {AdminKeyOptions.MinimumLength} characters.")
                .ValidateOnStart();
        services.AddSingleton<AdminKeyFilter>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(
            new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase)));
        services.AddOpenApi(o => o.ShouldInclude = d => d.RelativePath?.StartsWith("api/manage", StringComparison.Ordinal) == true);
        return services;
    }

    public static IEndpointRouteBuilder MapManageApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(RoutePrefix).AddEndpointFilter<AdminKeyFilter>();
        group.MapOpenApi("/openapi.json");
        group.MapWorkspaceEndpoints();
        group.MapParkedMessageEndpoints();
        group.MapDashboardEndpoints();
        group.MapFriendEndpoints();
        group.MapFlowSettingsEndpoints();
        group.MapAutoSendMessageEndpoints();
        group.MapDiagnosisEndpoints();
        group.MapIdLinkageEndpoints();
        group.MapContactMaintenanceEndpoints();
        group.MapErasureEndpoints();
        group.MapBroadcastAdmin();
        group.MapSyncDataEndpoints();
        group.MapKlaviyoAppEndpoints();
        group.MapShopifyAdminEndpoints();
        group.MapAdminPageSignIn();
        return routes;
    }
}
