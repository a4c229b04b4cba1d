using System.Text.Json;
using Azure.Storage.Queues;

namespace Lumo.Core.Storage;

/// <summary>
/// Hands out <see cref="QueueClient"/>s by logical name (creating each queue once per process) and enqueues
/// JSON work items. Messages are Base64-encoded because that is the Functions host's default
/// <c>messageEncoding</c> for queue triggers; plain text would be rejected by the host.
/// </summary>
public sealed class LumoQueues(QueueServiceClient service, StorageOptions options)
{
    private readonly CreateOnce<QueueClient> _queues = new();

    public string PhysicalName(string logicalName) => (options.NamePrefix + logicalName).ToLowerInvariant();

    public Task<QueueClient> GetAsync(string logicalName, CancellationToken cancellationToken = default) =>
        _queues.GetAsync(logicalName, async name =>
        {
            var client = service.GetQueueClient(PhysicalName(name));
            await client.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
            return client;
        }, cancellationToken);

    /// <summary>Enqueues a JSON message, optionally invisible for <paramref name="delay"/> (e.g. "check again in 10 s").</summary>
    public async Task EnqueueAsync<T>(string logicalName, T message, CancellationToken cancellationToken = default, TimeSpan? delay = null)
    {
        var queue = await GetAsync(logicalName, cancellationToken);
        await queue.SendMessageAsync(JsonSerializer.Serialize(message, LumoJson.Options), visibilityTimeout: delay, cancellationToken: cancellationToken);
    }
}
