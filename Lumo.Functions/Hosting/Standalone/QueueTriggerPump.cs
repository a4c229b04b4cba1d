using System.Text.Json.Nodes;
using Azure.Storage.Queues.Models;
using Lumo.Core.Storage;

namespace Lumo.Functions.Hosting.Standalone;

/// <summary>
/// Drains one queue the way the Functions queue trigger does: batches handed to the function in parallel, a
/// failed message made visible again after host.json's <c>visibilityTimeout</c>, and after
/// <c>maxDequeueCount</c> attempts moved to <c>&lt;queue&gt;-poison</c>.
/// </summary>
internal sealed class QueueTriggerPump(FunctionDefinition function, LumoQueues queues, TriggerDelivery delivery,
    HostJsonSettings settings, TimeProvider clock, ILogger logger)
{
    // How long a message stays hidden while the function works on it.
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MinPollingInterval = TimeSpan.FromMilliseconds(100);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var queueName = function.QueueName!;
        var queue = await queues.GetAsync(queueName, stoppingToken);
        var poison = await queues.GetAsync(QueueNames.PoisonOf(queueName), stoppingToken);
        var idleDelay = MinPollingInterval;
        logger.LogInformation("Standalone runner drains queue {Queue} for function {FunctionName}", queue.Name, function.Name);

        // Like the host: fetch a new batch as soon as the messages in flight drop to newBatchThreshold, so one slow
        // message never holds up the rest (at most batchSize + newBatchThreshold run at once).
        var inFlight = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            inFlight.RemoveAll(t => t.IsCompleted);
            if (inFlight.Count > settings.NewBatchThreshold)
            {
                await Task.WhenAny(inFlight);
                continue;
            }
            QueueMessage[] batch;
            try
            {
                batch = (await queue.ReceiveMessagesAsync(settings.BatchSize, Lease, stoppingToken)).Value;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Receiving from queue {Queue} failed; trying again", queue.Name);
                batch = [];
            }

            if (batch.Length == 0)
            {
                // Back off like the host does, up to maxPollingInterval, and poll fast again once work shows up.
                try { await Task.WhenAny(inFlight.Append(Task.Delay(idleDelay, clock, stoppingToken))); }
                catch (OperationCanceledException) { break; }
                if (stoppingToken.IsCancellationRequested) break;
                idleDelay = TimeSpan.FromTicks(Math.Min(idleDelay.Ticks * 2, settings.MaxPollingInterval.Ticks));
                continue;
            }
            idleDelay = MinPollingInterval;
            inFlight.AddRange(batch.Select(message => ProcessAsync(queue, poison, message, stoppingToken)));
        }
        await Task.WhenAll(inFlight);
    }

    private async Task ProcessAsync(Azure.Storage.Queues.QueueClient queue, Azure.Storage.Queues.QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        try
        {
            // A message that already used up its attempts (e.g. the process died mid-invocation) is parked unseen.
            var succeeded = message.DequeueCount <= settings.MaxDequeueCount
                            && await InvokeAsync(message, stoppingToken);
            if (succeeded)
            {
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
            }
            else if (message.DequeueCount >= settings.MaxDequeueCount)
            {
                // Parked work stays until an administrator replays it: it never expires.
                await poison.SendMessageAsync(message.Body, timeToLive: TimeSpan.FromSeconds(-1), cancellationToken: CancellationToken.None);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
                logger.LogError("Message {MessageId} of queue {Queue} failed {Attempts} times and was moved to {PoisonQueue}",
                    message.MessageId, queue.Name, message.DequeueCount, poison.Name);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: settings.VisibilityTimeout, cancellationToken: CancellationToken.None);
            }
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // The lease runs out and the message comes back: nothing is lost.
            logger.LogWarning(e, "Handling message {MessageId} of queue {Queue} failed; it will be retried", message.MessageId, queue.Name);
        }
    }

    private async Task<bool> InvokeAsync(QueueMessage message, CancellationToken stoppingToken)
    {
        var now = clock.GetUtcNow();
        var envelope = new JsonObject
        {
            // The host hands the message text over as a JSON string; handlers unwrap it.
            ["Data"] = new JsonObject { [function.BindingName] = message.Body.ToString() },
            ["Metadata"] = new JsonObject
            {
                ["DequeueCount"] = message.DequeueCount,
                ["Id"] = message.MessageId,
                ["PopReceipt"] = message.PopReceipt,
                ["InsertionTime"] = message.InsertedOn?.ToString("O"),
                ["ExpirationTime"] = message.ExpiresOn?.ToString("O"),
                ["NextVisibleTime"] = message.NextVisibleOn?.ToString("O"),
                ["sys"] = new JsonObject { ["MethodName"] = function.Name, ["UtcNow"] = now.ToString("O"), ["RandGuid"] = Guid.NewGuid().ToString() },
            },
        };
        try
        {
            return await delivery.InvokeAsync(function.Name, envelope, stoppingToken);
        }
        catch (HttpRequestException e)
        {
            logger.LogWarning(e, "Function {FunctionName} could not be reached", function.Name);
            return false;
        }
    }
}
