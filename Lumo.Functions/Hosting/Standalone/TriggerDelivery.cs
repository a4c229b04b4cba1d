using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Lumo.Functions.Hosting.Standalone;

public sealed class TriggerDeliveryOptions
{
    /// <summary>
    /// How to reach our own endpoints. Null means over loopback HTTP to the address Kestrel listens on, exactly as
    /// the Functions host does; in-memory test servers set their own handler.
    /// </summary>
    public Func<HttpMessageHandler>? HandlerFactory { get; set; }
}

/// <summary>Posts invocation envelopes to <c>/{FunctionName}</c> on this very server.</summary>
public sealed class TriggerDelivery(IServer server, IOptions<TriggerDeliveryOptions> options, IOptions<Admin.AdminKeyOptions> adminKey) : IDisposable
{
    private readonly Lazy<HttpClient> _client = new(() =>
    {
        var client = CreateClient(server, options.Value);
        // Needed when the app listens beyond loopback (StandaloneBinding); harmless otherwise.
        if (adminKey.Value.Key is { Length: > 0 } key) client.DefaultRequestHeaders.Add("x-functions-key", key);
        return client;
    });

    /// <summary>True when the function answered 2xx: the invocation succeeded.</summary>
    public async Task<bool> InvokeAsync(string functionName, JsonObject envelope, CancellationToken cancellationToken)
    {
        using var response = await _client.Value.PostAsJsonAsync(functionName, envelope, cancellationToken);
        return response.IsSuccessStatusCode;
    }

    private static HttpClient CreateClient(IServer server, TriggerDeliveryOptions options)
    {
        if (options.HandlerFactory is not null)
            return new HttpClient(options.HandlerFactory()) { BaseAddress = new Uri("http://localhost/"), Timeout = TimeSpan.FromMinutes(10) };
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                      ?? throw new InvalidOperationException("The server has no listening address to deliver triggers to.");
        address = address.Replace("://+", "://127.0.0.1").Replace("://*", "://127.0.0.1").Replace("://[::]", "://127.0.0.1").Replace("://0.0.0.0", "://127.0.0.1");
        return new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(10) };
    }

    public void Dispose()
    {
        if (_client.IsValueCreated) _client.Value.Dispose();
    }
}
