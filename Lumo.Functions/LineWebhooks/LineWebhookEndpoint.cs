using Lumo.Core.LineWebhooks;
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
        if (request.ContentLength > MaxBodyBytes)
            return TooLarge();
        var body = await ReadLimitedAsync(request, ct);
        if (body is null) return TooLarge();

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

    private static ProblemHttpResult TooLarge() =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large", detail: $"A LINE webhook body is at most {MaxBodyBytes} bytes here.");

    // The signature covers the exact bytes, so the body is read raw (never re-serialised), up to the limit.
    private static async Task<byte[]?> ReadLimitedAsync(HttpRequest request, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
