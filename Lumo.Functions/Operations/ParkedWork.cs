using Lumo.Core.Storage;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.Operations;

/// <summary>How many messages are parked in the poison queue of each queue function.</summary>
public static class ParkedWork
{
    public static async Task<List<(FunctionDefinition Function, int Count)>> CountAsync(FunctionManifest manifest, LumoQueues queues, CancellationToken ct)
    {
        var result = new List<(FunctionDefinition, int)>();
        foreach (var function in manifest.Functions.Where(f => f.IsQueue))
        {
            var poison = await queues.GetAsync(QueueNames.PoisonOf(function.QueueName!), ct);
            result.Add((function, (await poison.GetPropertiesAsync(ct)).Value.ApproximateMessagesCount));
        }
        return result;
    }
}
