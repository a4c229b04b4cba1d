using Lumo.Core.Shopify;
using Lumo.Core.AutoSendMessages;
using Lumo.Core.Broadcasts;
using Lumo.Core.Connections;
using Lumo.Core.FlowSends;
using Lumo.Core.Friends;
using Lumo.Core.IdLinkage;
using Lumo.Core.LineLogin;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.LineWebhooks;
using Lumo.Core.Http;
using Lumo.Core.Klaviyo;
using Lumo.Core.Line;
using Lumo.Core.Privacy;
using Lumo.Core.Retention;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;
using Lumo.Core.SyncData;
using Lumo.Core.Tracking;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lumo.Core;

public static class LumoCoreServiceCollectionExtensions
{
    /// <summary>Storage, secrets, vendor clients and the use cases, with options validated at start-up.</summary>
    public static IServiceCollection AddLumoCore(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddLumoStorage();
        services.AddLumoSecrets();

        services.AddOptions<LineOptions>().BindConfiguration(LineOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<LinePushPacing>();
        services.AddOptions<KlaviyoOptions>().BindConfiguration(KlaviyoOptions.Section).ValidateDataAnnotations()
            .Validate(o => KlaviyoOptions.Problem(o) is null, "Lumo:Klaviyo:OAuthClientSecret is required when Lumo:Klaviyo:OAuthClientId is set.").ValidateOnStart();

        services.AddTransient<LineAuthHandler>();
        services.AddHttpClient<LineMessagingClient>((provider, http) =>
                http.BaseAddress = provider.GetRequiredService<IOptions<LineOptions>>().Value.ApiBaseUrl)
            .AddHttpMessageHandler<LineAuthHandler>()
            .AddLumoResilience(request => request.Options.TryGetValue(LineAccountRef.OptionKey, out var account) ? AccountPartition.Of(account.WorkspaceId, account.AccountId) : "");

        services.AddHttpClient<LineLoginClient>((provider, http) =>
                http.BaseAddress = provider.GetRequiredService<IOptions<LineOptions>>().Value.ApiBaseUrl)
            .AddLumoResilience(request => LineLoginClient.ChannelOf(request));

        services.AddTransient<KlaviyoAuthHandler>();
        services.AddHttpClient<KlaviyoOAuthClient>((provider, http) =>
                http.BaseAddress = provider.GetRequiredService<IOptions<KlaviyoOptions>>().Value.ApiBaseUrl)
            .AddLumoResilience(_ => "klaviyo-oauth");
        services.AddTransient<KlaviyoOAuthTokens>();
        services.AddHttpClient<KlaviyoClient>((provider, http) =>
                http.BaseAddress = provider.GetRequiredService<IOptions<KlaviyoOptions>>().Value.ApiBaseUrl)
            .AddHttpMessageHandler<KlaviyoAuthHandler>()
            .AddLumoResilience(request => request.Options.TryGetValue(KlaviyoAuthHandler.WorkspaceKey, out var workspaceId) ? workspaceId : "");

        services.AddSingleton<WorkspaceStore>();
        services.AddSingleton<TenantDataErasure>();
        services.AddSingleton<PersonErasure>();
        services.AddSingleton<WorkspaceAdministration>();
        // Use cases that call vendors are transient: typed HttpClients must not be captured by singletons.
        services.AddTransient<ConnectionVerifier>();
        services.AddSingleton<KlaviyoConnectionHealth>();
        services.AddTransient<KlaviyoAppConnection>();
        services.AddSingleton<LeaseStore>();
        services.AddSingleton<OneTimeStates>();

        services.AddSingleton<ContactIndexKey>();
        services.AddSingleton<LineFriendStore>();
        services.AddTransient<FriendPropertySync>();
        services.AddTransient<FriendAdministration>();
        services.AddTransient<FriendBulkSync>();
        services.AddTransient<LineFriendLookup>();
        services.AddSingleton<ContactRenormalisation>();

        services.AddSingleton<LineEventLog>();
        services.AddSingleton<LineWebhookIntake>();
        services.AddTransient<LineEventProcessor>();

        services.AddOptions<KlaviyoExportOptions>().BindConfiguration(KlaviyoExportOptions.Section)
            .Validate(o => KlaviyoExportOptions.Problem(o) is null, "Lumo:KlaviyoEvents: RunBudget, MaxRetryAge and MaxBackoff must be positive and LeaseDuration at least one second.")
            .ValidateOnStart();
        services.AddSingleton<KlaviyoEventOutbox>();
        services.AddSingleton<KlaviyoRateLimits>();
        services.AddSingleton<KlaviyoEventRecorder>();
        services.AddTransient<KlaviyoEventExporter>();

        services.AddOptions<IdLinkageOptions>().BindConfiguration(IdLinkageOptions.Section)
            .PostConfigure(o => o.PublicBaseUrl ??= Environment.GetEnvironmentVariable("WEBSITE_HOSTNAME") is { Length: > 0 } host ? new Uri("https://" + host) : null)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IdLinkageSettingsStore>();
        services.AddSingleton<LinkQrCodeStore>();
        services.AddSingleton<LinkSessionStore>();
        services.AddSingleton<FormLinkArms>();
        services.AddSingleton<LinkImportHistory>();
        services.AddTransient<Dashboard.WorkspaceDashboards>();
        services.AddTransient<KlaviyoProfileResolver>();
        services.AddTransient<IdLinking>();
        services.AddTransient<AutoLinking>();
        services.AddTransient<LinkingFlow>();
        services.AddTransient<IdLinkageAdministration>();
        services.AddTransient<LineUserIdImport>();
        services.AddSingleton<LinkingTokens>();
        services.AddSingleton<LinkingTokenPasses>();
        services.AddTransient<SegmentWalk>();
        services.AddTransient<LinkingTokenIssuer>();

        services.AddOptions<FlowSendOptions>().BindConfiguration(FlowSendOptions.Section)
            .Validate(o => FlowSendOptions.Problem(o) is null, "Lumo__FlowSends__DuplicateWindow must be more than zero and at most 7 days (default 1.01:00:00, 25 hours).")
            .ValidateOnStart();
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section)
            .Validate(o => RetentionOptions.Problem(o) is null, "Lumo:Retention: every retention is at least one day.").ValidateOnStart();
        services.AddTransient<RetentionSweep>();
        services.AddSingleton<AutoSendMessageStore>();
        services.AddSingleton<Lumo.Core.ProductCards.ProductCardPreview>();
        services.AddSingleton<FlowKeys>();
        services.AddSingleton<LineSendStore>();
        services.AddSingleton<FlowSendIntake>();
        services.AddTransient<LineSender>();
        services.AddTransient<PendingSendSweep>();
        services.AddSingleton<TrackedLinks>();
        services.AddTransient<SendTracking>();
        services.AddTransient<EngagementTracking>();
        services.AddOptions<TrackingOptions>().BindConfiguration(TrackingOptions.Section)
            .Validate(o => TrackingOptions.Problem(o) is null, "Lumo:Tracking: OpenGrace is 0 to 10 minutes, ClickWindow 1 minute to 1 day, UtmSource 1 to 100 characters.").ValidateOnStart();
        services.AddLumoBroadcasts();
        services.AddLumoSyncData();
        services.AddLumoShopify();
        return services;
    }

    private static void TryAddSingleton<T>(this IServiceCollection services, T instance) where T : class
    {
        if (!services.Any(d => d.ServiceType == typeof(T)))
            services.AddSingleton(instance);
    }
}
