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
        foreach (var (key, value) in Settings(storage, sandbox, port, prefix, runTriggers)) Environment.SetEnvironmentVariable(key, value);
        var entry = typeof(Lumo.Functions.Hosting.HostingMode).Assembly.EntryPoint!;
        _ = Task.Factory.StartNew(() => entry.Invoke(null, [Array.Empty<string>()]), TaskCreationOptions.LongRunning);
        var url = new Uri($"http://127.0.0.1:{port}/");
        await WaitUntilUpAsync(url);
        return (url, prefix);
    }

    /// <summary>
    /// Starts the app as a process of its own on the given storage prefix (<c>dotnet Lumo.Functions.dll</c>, the same
    /// build), so that a scenario can kill it as a crash would and start another.
    /// </summary>
    public static async Task<(System.Diagnostics.Process Process, Uri Url)> StartProcessAsync(string storage, Uri sandbox, string prefix)
    {
        var port = FreePort();
        var dll = typeof(Lumo.Functions.Hosting.HostingMode).Assembly.Location;
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", [dll]) { WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in Settings(storage, sandbox, port, prefix, runTriggers: true)) start.Environment[key] = value;
        var process = System.Diagnostics.Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var url = new Uri($"http://127.0.0.1:{port}/");
        await WaitUntilUpAsync(url);
        return (process, url);
    }

    private static Dictionary<string, string> Settings(string storage, Uri sandbox, int port, string prefix, bool runTriggers) => new()
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

    private static async Task WaitUntilUpAsync(Uri url)
    {
        using var http = new HttpClient();
        for (var i = 0; i < 300; i++)
        {
            try { if ((await http.GetAsync(url)).IsSuccessStatusCode) return; }
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
