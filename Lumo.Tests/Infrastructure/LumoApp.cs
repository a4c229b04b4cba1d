using System.Net.Http.Headers;
using Lumo.Functions.Hosting.Standalone;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Tests.Infrastructure;

/// <summary>
/// The real function app pipeline in memory (standalone mode), on the shared Azurite with a table/queue prefix of
/// its own, calling the shared sandbox. The standalone trigger runner runs unless a test turns it off, delivering
/// to this in-memory server exactly as it would over loopback.
/// </summary>
public sealed class LumoApp : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-admin-key-0123456789";
    private readonly string _storage;
    private readonly Uri _sandbox;
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private bool _kestrel;

    private LumoApp(string storage, Uri sandbox, Dictionary<string, string?> settings, Action<IServiceCollection>? services, string? prefix)
    {
        Prefix = prefix ?? "t" + SandboxTenant.Hex(5);
        _storage = storage;
        _sandbox = sandbox;
        _settings = settings;
        _services = services;
    }

    /// <summary>The table/queue name prefix: this app's own, or another app's to run as a second instance of it.</summary>
    public string Prefix { get; }

    /// <param name="kestrel">Serve on a real loopback port (for a browser) instead of in memory; <see cref="BaseAddress"/> says where.</param>
    public static async Task<LumoApp> StartAsync(bool runTriggers = true, Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null,
        string? sharingStorageWith = null, bool kestrel = false)
    {
        var app = new LumoApp(await TestEnvironment.StorageConnectionStringAsync(), (await TestEnvironment.SandboxAsync()).BaseUrl,
            new Dictionary<string, string?>(settings ?? []) { ["Lumo:Standalone:RunTriggers"] = runTriggers.ToString() }, services, sharingStorageWith);
        if (kestrel)
        {
            app._kestrel = true;
            app.UseKestrel(o => o.Listen(System.Net.IPAddress.Loopback, 0));
        }
        app.StartServer();
        return app;
    }

    /// <summary>Where a Kestrel-served app listens (<c>http://127.0.0.1:port/</c>).</summary>
    public Uri BaseAddress => new(Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
        .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("AzureWebJobsStorage", _storage);
        builder.UseSetting("Lumo:Storage:NamePrefix", Prefix);
        builder.UseSetting("Lumo:Line:ApiBaseUrl", _sandbox.ToString());
        builder.UseSetting("Lumo:Klaviyo:ApiBaseUrl", _sandbox.ToString());
        builder.UseSetting("Lumo:Line:LoginAuthorizeUrl", new Uri(_sandbox, "/oauth2/v2.1/authorize").ToString());
        builder.UseSetting("Lumo:IdLinkage:PublicBaseUrl", "http://localhost");
        builder.UseSetting("Lumo:Admin:Key", AdminKey);
        builder.UseSetting("Lumo:KeyVault:VaultUri", "");
        builder.UseSetting("Lumo:Standalone:HostJsonPath", TestEnvironment.FastHostJson.Value);
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        builder.ConfigureTestServices(services =>
        {
            // Kestrel-served apps deliver triggers over loopback, as the Functions host does.
            if (!_kestrel) services.Configure<TriggerDeliveryOptions>(o => o.HandlerFactory = () => Server.CreateHandler());
            _services?.Invoke(services);
        });
    }

    /// <summary>A client that sends the admin key the way Functions keys are sent.</summary>
    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("x-functions-key", AdminKey);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();
}
