using System.Text.Json.Nodes;
using Lumo.Core.Storage;
using Lumo.Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Lumo.Functions.Admin;

/// <summary>
/// Work that failed every attempt is parked in the poison queue of its queue. An administrator sees it here and,
/// once the cause is fixed, replays it: the messages go back to their queue and are handled like new.
/// </summary>
public static class ParkedMessageEndpoints
{
    private const int PeekLimit = 32; // the most a queue peek returns

    public sealed record ParkedQueueView(string Queue, string FunctionName, int ParkedCount);
    public sealed record ParkedMessageView(string MessageId, DateTimeOffset? ParkedAt, JsonNode? Body);
    public sealed record ReplayResult(string Queue, int Replayed);

    public static RouteGroupBuilder MapParkedMessageEndpoints(this RouteGroupBuilder manage)
    {
        var parked = manage.MapGroup("/parked").WithTags("Parked work");
        parked.MapGet("/", ListParkedQueues);
        parked.MapGet("/{queue}", PeekParkedMessages);
        parked.MapPost("/{queue}/replay", ReplayParkedMessages);
        return manage;
    }

    public static async Task<Ok<List<ParkedQueueView>>> ListParkedQueues(FunctionManifest manifest, LumoQueues queues, CancellationToken ct)
    {
        var counts = await Operations.ParkedWork.CountAsync(manifest, queues, ct);
        return TypedResults.Ok(counts.Select(c => new ParkedQueueView(c.Function.QueueName!, c.Function.Name, c.Count)).ToList());
    }

    /// <summary>The oldest parked messages of a queue (at most 32, what a queue peek returns).</summary>
    public static async Task<Results<Ok<List<ParkedMessageView>>, ProblemHttpResult>> PeekParkedMessages(
        string queue, FunctionManifest manifest, LumoQueues queues, CancellationToken ct)
    {
        if (!IsQueueOfAFunction(manifest, queue)) return UnknownQueue(queue);
        var poison = await queues.GetAsync(QueueNames.PoisonOf(queue), ct);
        var messages = await poison.PeekMessagesAsync(PeekLimit, ct);
        return TypedResults.Ok(messages.Value.Select(m => new ParkedMessageView(m.MessageId, m.InsertedOn, ParseOrText(m.Body.ToString()))).ToList());
    }

    /// <summary>Moves parked messages back to their queue (all of them, or at most <paramref name="max"/>).</summary>
    public static async Task<Results<Ok<ReplayResult>, ProblemHttpResult>> ReplayParkedMessages(
        string queue, [FromQuery] int? max, FunctionManifest manifest, LumoQueues queues, ILoggerFactory loggers, CancellationToken ct)
    {
        if (!IsQueueOfAFunction(manifest, queue)) return UnknownQueue(queue);
        var source = await queues.GetAsync(QueueNames.PoisonOf(queue), ct);
        var target = await queues.GetAsync(queue, ct);
        var limit = max is > 0 ? max.Value : int.MaxValue;
        var replayed = 0;
        while (replayed < limit)
        {
            var batch = (await source.ReceiveMessagesAsync(Math.Min(32, limit - replayed), TimeSpan.FromMinutes(1), ct)).Value;
            if (batch.Length == 0) break;
            foreach (var message in batch)
            {
                // Send first, then delete: a crash in between replays a message twice, which the idempotent
                // handlers absorb, rather than losing it.
                await target.SendMessageAsync(message.Body, cancellationToken: ct);
                await source.DeleteMessageAsync(message.MessageId, message.PopReceipt, ct);
                replayed++;
            }
        }
        loggers.CreateLogger("Lumo.Admin").LogInformation("Replayed {Count} parked messages of queue {Queue}", replayed, queue);
        return TypedResults.Ok(new ReplayResult(queue, replayed));
    }

    private static bool IsQueueOfAFunction(FunctionManifest manifest, string queue) =>
        manifest.Functions.Any(f => f.IsQueue && f.QueueName == queue);

    private static ProblemHttpResult UnknownQueue(string queue) =>
        AdminProblems.NotFound("Unknown queue", $"No function reads a queue named '{queue}'.");

    private static JsonNode? ParseOrText(string text)
    {
        try { return JsonNode.Parse(text); }
        catch (System.Text.Json.JsonException) { return JsonValue.Create(text); }
    }
}
