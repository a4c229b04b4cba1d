using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Tests.Infrastructure;

/// <summary>
/// An Azure SDK pipeline policy that counts what the app asks of Table storage: requests per table and method, and
/// the entities each table's queries returned. Installed with <see cref="Install"/> in place of the app's
/// TableServiceClient, on the same Azurite. With <see cref="OnlyRequestsTo"/> it counts only what the app does while
/// answering HTTP requests under one path: queue and timer triggers run in the same process, at times of their own,
/// and would otherwise land in whichever measurement happens to be open.
/// </summary>
public sealed class StorageRequestCounter : HttpPipelinePolicy
{
    private readonly ConcurrentDictionary<string, long> _requests = new();
    private readonly ConcurrentDictionary<string, long> _entitiesRead = new();
    private static readonly AsyncLocal<string?> RequestPath = new();

    /// <summary>Count only table requests made while the app answers a request whose path starts with this (null: all).</summary>
    public string? OnlyRequestsTo { get; set; }

    public long Requests(string tableSuffix, string method) =>
        _requests.Where(r => r.Key.EndsWith($"{tableSuffix} {method}", StringComparison.Ordinal)).Sum(r => r.Value);

    public long EntitiesRead(string tableSuffix) => _entitiesRead.Where(r => r.Key.EndsWith(tableSuffix, StringComparison.Ordinal)).Sum(r => r.Value);

    /// <summary>Every table request counted since the last <see cref="Reset"/>.</summary>
    public long Total => _requests.Values.Sum();

    /// <summary>Requests per table and method, for a test's output.</summary>
    public string Breakdown => string.Join(", ", _requests.OrderBy(r => r.Key).Select(r => $"{r.Key} {r.Value}"));

    public void Reset()
    {
        _requests.Clear();
        _entitiesRead.Clear();
    }

    public static void Install(IServiceCollection services, string connectionString, StorageRequestCounter counter)
    {
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerCall);
        services.AddSingleton(new TableServiceClient(connectionString, options));
        services.AddSingleton<IStartupFilter, RequestPathFilter>();
    }

    /// <summary>Remembers, for everything the request's handling awaits, which path it answers.</summary>
    private sealed class RequestPathFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                RequestPath.Value = context.Request.Path.Value;
                await nextMiddleware(context);
            });
            next(app);
        };
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ProcessNext(message, pipeline);
        Count(message);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        Count(message);
    }

    private void Count(HttpMessage message)
    {
        if (OnlyRequestsTo is { } prefix && RequestPath.Value?.StartsWith(prefix, StringComparison.Ordinal) != true) return;
        var table = message.Request.Uri.Path.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Split('(')[0] ?? "";
        _requests.AddOrUpdate($"{table} {message.Request.Method}", 1, (_, n) => n + 1);
        if (message.Request.Method != RequestMethod.Get || !message.HasResponse || message.Response.Status != 200) return;
        try
        {
            using var document = JsonDocument.Parse(message.Response.Content);
            var entities = document.RootElement.TryGetProperty("value", out var value) ? value.GetArrayLength() : 1;
            _entitiesRead.AddOrUpdate(table, entities, (_, n) => n + entities);
        }
        catch (JsonException)
        {
        }
    }
}
