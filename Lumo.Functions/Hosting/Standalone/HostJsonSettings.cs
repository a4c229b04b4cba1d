using System.Text.Json.Nodes;

namespace Lumo.Functions.Hosting.Standalone;

/// <summary>
/// The parts of host.json the standalone runner imitates, with the Functions host's defaults
/// (https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#hostjson-settings).
/// </summary>
public sealed record HostJsonSettings(int MaxDequeueCount, TimeSpan VisibilityTimeout, int BatchSize, TimeSpan MaxPollingInterval, int NewBatchThreshold)
{
    public static readonly HostJsonSettings Defaults = new(5, TimeSpan.Zero, 16, TimeSpan.FromMinutes(1), 8);

    public static HostJsonSettings Read(string path)
    {
        if (!File.Exists(path)) return Defaults;
        var queues = JsonNode.Parse(File.ReadAllText(path))?["extensions"]?["queues"];
        var batchSize = queues?["batchSize"]?.GetValue<int>() ?? Defaults.BatchSize;
        return new HostJsonSettings(
            queues?["maxDequeueCount"]?.GetValue<int>() ?? Defaults.MaxDequeueCount,
            TimeSpan.TryParse(queues?["visibilityTimeout"]?.GetValue<string>(), out var visibility) ? visibility : Defaults.VisibilityTimeout,
            batchSize,
            TimeSpan.TryParse(queues?["maxPollingInterval"]?.GetValue<string>(), out var polling) ? polling : Defaults.MaxPollingInterval,
            queues?["newBatchThreshold"]?.GetValue<int>() ?? batchSize / 2);
    }
}
