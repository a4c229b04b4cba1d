using System.Diagnostics.Metrics;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Lumo.Core.Storage;

/// <summary>
/// Counts every request the app makes of Table and Queue storage (each attempt, as storage bills them) by kind (point read, query, transaction, write,
/// delete; enqueue, receive, delete message) on the meter <c>Lumo.Storage</c>, instrument <c>lumo.storage.requests</c>
/// with the tag <c>kind</c>. Operators see storage cost per feature in telemetry; the bench divides it by the work done.
/// </summary>
public sealed class StorageRequestMetrics(string service) : HttpPipelinePolicy
{
    public const string MeterName = "Lumo.Storage";
    public const string InstrumentName = "lumo.storage.requests";
    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Requests = Meter.CreateCounter<long>(InstrumentName, description: "Storage requests by kind");

    public static readonly StorageRequestMetrics Tables = new("table");
    public static readonly StorageRequestMetrics Queues = new("queue");

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

    private void Count(HttpMessage message) => Requests.Add(1, new KeyValuePair<string, object?>("kind", KindOf(message.Request)));

    private string KindOf(Request request)
    {
        var path = request.Uri.Path;
        var method = request.Method;
        if (service == "queue")
            return method == RequestMethod.Post ? "queue enqueue" : method == RequestMethod.Get ? "queue receive" : method == RequestMethod.Delete ? "queue delete" : "queue update";
        if (path.EndsWith("$batch", StringComparison.Ordinal)) return "table transaction";
        if (method == RequestMethod.Get) return path.Contains("PartitionKey=", StringComparison.Ordinal) ? "table point read" : "table query";
        return method == RequestMethod.Delete ? "table delete" : "table write";
    }
}
