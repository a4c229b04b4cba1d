using Lumo.Core.FlowSends;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Lumo.Functions.FlowSends;

/// <summary>
/// Function FlowSend: <c>POST /api/flow/{workspaceId}/send</c>, the destination of a Klaviyo Flow webhook action.
/// Anonymous at the host; the workspace's Flow key (header <c>X-Lumo-Flow-Key</c>) authenticates. Klaviyo retries
/// 429 and 5xx for a day and skips the profile on any other status, so: 401 for a wrong key and 400 for a bad body
/// (never retried, never sent), 200 with the reason for a recipient who cannot get LINE messages, 202 once queued.
/// </summary>
public static class FlowSendEndpoint
{
    public sealed record SendAnswer(string SendId, SendStatus Status, string? Reason);

    public static IEndpointRouteBuilder MapFlowSend(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/flow/{workspaceId}/send", Receive).WithTags("Klaviyo Flow").ExcludeFromDescription();
        return routes;
    }

    public static async Task<Results<Accepted<SendAnswer>, Ok<SendAnswer>, ValidationProblem, ProblemHttpResult>> Receive(
        string workspaceId, [FromHeader(Name = FlowKeys.HeaderName)] string? key, FlowSendRequest request, FlowSendIntake intake, CancellationToken ct)
    {
        var result = await intake.AcceptAsync(workspaceId, key, request, ct);
        var answer = result.Send is { } s ? new SendAnswer(s.Id, s.Status, s.Reason) : null;
        return result.Outcome switch
        {
            FlowSendOutcome.Queued => TypedResults.Accepted((string?)null, answer),
            FlowSendOutcome.AlreadyDone or FlowSendOutcome.Skipped => TypedResults.Ok(answer),
            FlowSendOutcome.Invalid => TypedResults.ValidationProblem(result.Errors!),
            FlowSendOutcome.UnknownWorkspace => FlowWebhookProblems.UnknownWorkspace(workspaceId),
            _ => FlowWebhookProblems.WrongKey(),
        };
    }
}
