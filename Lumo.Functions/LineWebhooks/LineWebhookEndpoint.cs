using Lumo.Core.LineWebhooks;
using Lumo.Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.LineWebhooks;

/// <summary>
/// Function LineWebhook: <c>POST /api/line/webhook/{workspaceId}/{accountId}</c>, the Webhook URL set in the LINE
/// Developers Console. Anonymous at the host; the LINE signature is the authentication.
/// </summary>
public static class LineWebhookEndpoint
{
    /// <summary>LINE's bodies are small; anything near this is not from LINE.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapLineWebhook(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/line/webhook/{workspaceId}/{accountId}", Receive).WithTags("LINE").ExcludeFromDescription();
        return routes;
    }

    public static async Task<Results<Ok, ProblemHttpResult>> Receive(string workspaceId, string accountId, HttpRequest request, LineWebhookIntake intake, CancellationToken ct)
    {
        var body = await LimitedBody.ReadAsync(request, MaxBodyBytes, ct);
        if (body is null) return LimitedBody.TooLarge(MaxBodyBytes);

        var (outcome, _, error) = await intake.AcceptAsync(workspaceId, accountId, body, request.Headers["x-line-signature"].FirstOrDefault(), ct);
        return outcome switch
        {
            WebhookOutcome.Accepted => TypedResults.Ok(),
            WebhookOutcome.UnknownAccount => TypedResults.Problem(statusCode: 404, title: "Unknown LINE account",
                detail: $"No LINE account '{accountId}' in workspace '{workspaceId}'. Check the Webhook URL in the LINE Developers Console."),
            WebhookOutcome.BadSignature => TypedResults.Problem(statusCode: 401, title: "Invalid signature",
                detail: "The x-line-signature header is missing or does not match the body and the channel secret."),
            _ => TypedResults.Problem(statusCode: 400, title: "Malformed webhook body", detail: error),
        };
    }
}
