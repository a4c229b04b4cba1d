using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// The floor every other figure is compared with: what Azurite itself sustains on this machine for the storage
/// operations our pipelines are built of (table point upsert and read, queue enqueue and dequeue).
/// </summary>
public static class AzuriteFloor
{
    public const string SendPathFloor = "send path (2 reads + 2 transactions)";

    public static async Task<IReadOnlyList<Measurement>> RunAsync(string connectionString, int operations, int concurrency)
    {
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..6];
        var table = new TableServiceClient(connectionString).GetTableClient(prefix + "Floor");
        await table.CreateIfNotExistsAsync();
        var queue = new QueueServiceClient(connectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }).GetQueueClient(prefix + "-floor");
        await queue.CreateIfNotExistsAsync();
        const string payload = """{"workspaceId":"0123456789abcdef","accountId":"fedcba9876543210","kind":"bench"}""";

        var results = new List<Measurement>
        {
            await Measurement.RunAsync("table upsert (point)", operations, concurrency, i =>
                table.UpsertEntityAsync(new TableEntity("p" + i % 64, "r" + i) { ["Payload"] = payload }, TableUpdateMode.Replace)),
            await Measurement.RunAsync("table read (point)", operations, concurrency, i =>
                table.GetEntityAsync<TableEntity>("p" + i % 64, "r" + i)),
            await Measurement.RunAsync("queue enqueue", operations, concurrency, _ => queue.SendMessageAsync(payload)),
        };
        // The storage work of one Flow send with an idempotency key on its happy path, back to back: check the Flow key
        // and read the friend (two point reads), record the send with its pending mark (one 2-entity transaction), save
        // the outcome and drop the mark (one 2-entity transaction).
        results.Add(await Measurement.RunAsync(SendPathFloor, operations, concurrency, async i =>
        {
            var partition = "w" + i % 64;
            await table.GetEntityAsync<TableEntity>("p" + i % 64, "r" + i);
            var other = (i + 1) % operations;
            await table.GetEntityAsync<TableEntity>("p" + other % 64, "r" + other);
            await table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, $"s{i}") { ["Payload"] = payload }),
                new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, $"~pending:s{i}") { ["SendId"] = $"s{i}" }),
            ]);
            await table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partition, $"s{i}") { ["Payload"] = payload, ["Status"] = "Sent" }),
                new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, $"~pending:s{i}"), ETag.All),
            ]);
        }));
        // Rows deleted in entity-group transactions of 100, as the event outbox removes exported events.
        var rows = operations / 100 * 100;
        foreach (var chunk in Enumerable.Range(0, rows).Chunk(100))
            await table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("outbox", $"{r:D8}") { ["Payload"] = payload })));
        var deletes = await Measurement.RunAsync("table delete (in 100-row transactions)", rows / 100, 8, i =>
            table.SubmitTransactionAsync(Enumerable.Range(i * 100, 100).Select(r => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity("outbox", $"{r:D8}"), ETag.All))));
        results.Add(deletes with { Operations = rows });
        // Dequeue as the trigger runner does: receive a batch, delete each message.
        var batches = (operations + 15) / 16;
        var dequeued = 0;
        var dequeue = await Measurement.RunAsync("queue dequeue (batch 16 + delete)", batches, concurrency, async _ =>
        {
            var messages = (await queue.ReceiveMessagesAsync(16)).Value;
            foreach (var m in messages) await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            Interlocked.Add(ref dequeued, messages.Length);
        });
        // Throughput counts messages; the latencies are per batch (receive + 16 deletes).
        results.Add(dequeue with { Name = "queue dequeue (latency per batch)", Operations = dequeued });

        await table.DeleteAsync();
        await queue.DeleteAsync();
        return results;
    }
}
