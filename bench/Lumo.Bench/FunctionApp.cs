using System.Net.Sockets;
using Lumo.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lumo.Bench;

/// <summary>
/// The real function app (standalone mode) started inside the bench process on a loopback port, configured the
/// way an operator would: through environment settings.
/// </summary>
public static class FunctionApp
{
    public const string AdminKey = "bench-admin-key-0123456789";

    /// <summary>Starts an app with tables and queues of its own (a fresh name prefix); returns its URL and the prefix.</summary>
    public static async Task<(Uri Url, string Prefix)> StartAsync(string storage, Uri sandbox, bool runTriggers)
    {
        var port = FreePort();
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..6];
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = storage,
            ["Lumo__Storage__NamePrefix"] = prefix,
            ["Lumo__Line__ApiBaseUrl"] = sandbox.ToString(),
            ["Lumo__Klaviyo__ApiBaseUrl"] = sandbox.ToString(),
            ["Lumo__Line__LoginAuthorizeUrl"] = new Uri(sandbox, "/oauth2/v2.1/authorize").ToString(),
            ["Lumo__IdLinkage__PublicBaseUrl"] = $"http://127.0.0.1:{port}",
            ["Lumo__Admin__Key"] = AdminKey,
            ["Lumo__Standalone__Urls"] = $"http://127.0.0.1:{port}",
            ["Lumo__Standalone__RunTriggers"] = runTriggers.ToString(),
            ["Lumo__LocalSettingsPath"] = "/nonexistent",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in settings) Environment.SetEnvironmentVariable(key, value);
        var entry = typeof(Lumo.Functions.Hosting.HostingMode).Assembly.EntryPoint!;
        _ = Task.Factory.StartNew(() => entry.Invoke(null, [Array.Empty<string>()]), TaskCreationOptions.LongRunning);

        var url = new Uri($"http://127.0.0.1:{port}/");
        using var http = new HttpClient();
        for (var i = 0; i < 300; i++)
        {
            try { if ((await http.GetAsync(url)).IsSuccessStatusCode) return (url, prefix); }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException("The function app did not start.");
    }

    /// <summary>Lumo's Core services on an app's storage (same name prefix), for seeding and recording from the bench process.</summary>
    public static ServiceProvider CoreServices(string storage, string prefix, Uri? sandbox = null) =>
        new ServiceCollection().AddLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = storage, ["Lumo:Storage:NamePrefix"] = prefix,
                ["Lumo:Klaviyo:ApiBaseUrl"] = sandbox?.ToString(), ["Lumo:Line:ApiBaseUrl"] = sandbox?.ToString(),
            }.Where(s => s.Value is not null)).Build())
            .AddLumoCore()
            .BuildServiceProvider();

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
