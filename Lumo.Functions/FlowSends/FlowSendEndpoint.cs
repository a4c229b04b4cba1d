using Lumo.Core.FlowSends;
using Lumo.Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Lumo.Functions.FlowSends;

/// <summary>
/// Function FlowSend: <c>POST /api/flow/{workspaceId}/send</c>, the destination of a Klaviyo Flow webhook action.
/// Anonymous at the host; the workspace's Flow key (header <c>X-Lumo-Flow-Key</c>) authenticates, and is checked
/// before the body is read (at most <see cref="MaxBodyBytes"/>). Klaviyo retries 429 and 5xx for a day and skips the
/// profile on any other status, so: 401 for a wrong key and 400 for a bad body (never retried, never sent), 200 with
/// the reason for a recipient who cannot get LINE messages, 202 once queued.
/// </summary>
public static class FlowSendEndpoint
{
    /// <summary>A Flow webhook body: recipient, account, a text of at most 5,000 characters or a message id and its variables.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public sealed record SendAnswer(string SendId, SendStatus Status, string? Reason);

    public static IEndpointRouteBuilder MapFlowSend(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/flow/{workspaceId}/send", Receive).WithTags("Klaviyo Flow").ExcludeFromDescription();
        return routes;
    }

    public static async Task<Results<Accepted<SendAnswer>, Ok<SendAnswer>, ValidationProblem, ProblemHttpResult>> Receive(
        string workspaceId, [FromHeader(Name = FlowKeys.HeaderName)] string? key, HttpRequest http, FlowSendIntake intake, CancellationToken ct)
    {
        if (await intake.RefuseUnlessAuthenticAsync(workspaceId, key, ct) is { } refusal)
            return refusal == FlowSendOutcome.UnknownWorkspace ? FlowWebhookProblems.UnknownWorkspace(workspaceId) : FlowWebhookProblems.WrongKey();
        var (request, problem) = await LimitedBody.ReadJsonAsync<FlowSendRequest>(http, MaxBodyBytes, ct);
        if (request is null) return problem!;

        var result = await intake.AcceptAsync(workspaceId, request, "flow", ct);
        var answer = result.Send is { } s ? new SendAnswer(s.Id, s.Status, s.Reason) : null;
        return result.Outcome switch
        {
            FlowSendOutcome.Queued => TypedResults.Accepted((string?)null, answer),
            FlowSendOutcome.AlreadyDone or FlowSendOutcome.Skipped => TypedResults.Ok(answer),
            _ => TypedResults.ValidationProblem(result.Errors!),
        };
    }
}
