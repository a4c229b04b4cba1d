using Lumo.Sandbox.Control;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Lumo.Sandbox.Shopify;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Lumo.Sandbox;

/// <summary>
/// The sandbox as a server on loopback: in-process for tests (<see cref="StartAsync"/>, with direct access to its
/// state for assertions) or as its own process for the local run and the benchmarks (Program.cs).
/// </summary>
public sealed class SandboxHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SandboxHost(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = new Uri(baseUrl.TrimEnd('/') + "/");
        State = app.Services.GetRequiredService<Services>();
    }

    public Uri BaseUrl { get; }
    public Services State { get; }
    public LineState Line => State.Line;
    public KlaviyoState Klaviyo => State.Klaviyo;
    public ShopifyState Shopify => State.Shopify;
    public FaultInjector Faults => State.Faults;
    public RateLimiter Limiter => State.Limiter;
    public ContractViolations Violations => State.Violations;
    public RequestLog Requests => State.Requests;

    /// <summary>Everything the simulators hold, for resetting and for tests to look into.</summary>
    public sealed record Services(LineState Line, KlaviyoState Klaviyo, ShopifyState Shopify, FaultInjector Faults, RateLimiter Limiter, ContractViolations Violations, RequestLog Requests)
    {
        public void ResetAll()
        {
            Requests.Clear();
            Line.Reset();
            Klaviyo.Reset();
            Shopify.Reset();
            Faults.Clear();
            Limiter.Reset();
            Limiter.ClearOverrides();
            Violations.Clear();
        }
    }

    public static WebApplication Build(string[] args, bool quiet = false, AnswerChecks? answerChecks = null)
    {
        // Fail at start, with the reason, when the vendors' specifications cannot be found.
        _ = Specs.SpecLibrary.Folder;
        var builder = WebApplication.CreateSlimBuilder(args);
        if (quiet) builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<LineState>();
        builder.Services.AddSingleton<KlaviyoState>();
        builder.Services.AddSingleton<ShopifyState>();
        builder.Services.AddSingleton<FaultInjector>();
        builder.Services.AddSingleton<RateLimiter>();
        builder.Services.AddSingleton<ContractViolations>();
        builder.Services.AddSingleton(answerChecks ?? AnswerChecks.Every);
        builder.Services.AddSingleton<RequestLog>();
        builder.Services.AddSingleton<Services>();
        builder.Services.AddSingleton<LineMessagingVendor>();
        builder.Services.AddSingleton<LineLoginVendor>();
        builder.Services.AddSingleton<KlaviyoVendor>();
        builder.Services.AddSingleton<ShopifyVendor>();
        builder.Services.AddSingleton<ISimulatedVendor>(p => p.GetRequiredService<LineMessagingVendor>());
        builder.Services.AddSingleton<ISimulatedVendor>(p => p.GetRequiredService<LineLoginVendor>());
        builder.Services.AddSingleton<ISimulatedVendor>(p => p.GetRequiredService<KlaviyoVendor>());
        builder.Services.AddSingleton<ISimulatedVendor>(p => p.GetRequiredService<ShopifyVendor>());
        builder.Services.AddHttpClient();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver()));

        var app = builder.Build();
        app.UseMiddleware<VendorGateway>();
        app.MapLineMessagingApi();
        app.MapRichMenuApi();
        app.MapLineLogin();
        app.MapKlaviyoApi();
        app.MapKlaviyoOAuth();
        app.MapShopifyOAuth();
        app.MapShopifyAdminApi();
        app.MapShopifyControl();
        app.MapSandboxControl();
        app.MapGet("/", () => Results.Text("Lumo sandbox: simulated LINE Messaging API, LINE Login, Klaviyo API and Shopify (app install, GraphQL Admin API, webhooks). Control API under /sandbox."));
        return app;
    }

    /// <summary>Starts a sandbox on a free loopback port; it checks every answer it gives unless told to check a sample (<see cref="AnswerChecks"/>).</summary>
    public static async Task<SandboxHost> StartAsync(int port = 0, bool quiet = true, AnswerChecks? answerChecks = null)
    {
        var app = Build([], quiet, answerChecks);
        app.Urls.Add($"http://127.0.0.1:{port}");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new SandboxHost(app, address);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
