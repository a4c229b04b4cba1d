using Microsoft.AspNetCore.Diagnostics;

namespace Lumo.Functions.Hosting;

/// <summary>
/// Turns request-shape errors (unreadable JSON, a malformed invocation envelope) into a 400 problem that says what
/// is wrong, instead of the 500 the exception handler would answer. Logged without the body, which may hold PII.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problems, ILogger<BadRequestExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad) return false;
        logger.LogWarning("Rejected {Method} {Path}: {Reason}", context.Request.Method, context.Request.Path, bad.Message);
        context.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = bad.StatusCode, Title = "The request is not valid", Detail = Describe(bad) },
            Exception = exception,
        });
    }

    // Framework binding errors name the parameter; the inner JSON error names the field and position.
    private static string Describe(BadHttpRequestException bad) =>
        bad.InnerException is System.Text.Json.JsonException json ? $"{bad.Message} {json.Message}" : bad.Message;
}
