using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lumo.Sandbox.Infrastructure;

/// <summary>
/// Everything a real API does before and after its handler: authentication, injected latency and faults (which
/// can target one caller), the published rate limit (429 with <c>Retry-After</c>), validation of the request body against the
/// vendor's OpenAPI document (400 in the vendor's error shape), and validation of our own answer against the same
/// document (every answer, or a sample of them: <see cref="AnswerChecks"/>). Violations either way are recorded for the contract tests.
/// </summary>
public sealed class VendorGateway(RequestDelegate next, IEnumerable<ISimulatedVendor> vendors, FaultInjector faults, RateLimiter limiter,
    ContractViolations violations, AnswerChecks answerChecks, RequestLog requests, ILogger<VendorGateway> logger)
{
    private const int MaxBodyBytes = 5 * 1024 * 1024 + 64 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var vendor = vendors.FirstOrDefault(v => v.Owns(context.Request.Path));
        if (vendor is null)
        {
            await next(context);
            return;
        }
        var path = context.Request.Path.Value!;
        var caller = vendor.Authenticate(context);
        if (caller is null)
        {
            await Write(context, vendor.Error(401, "Authentication failed: the credentials are missing or not valid."));
            return;
        }
        context.Items[SandboxItems.Caller] = caller;

        var operation = vendor.Spec?.FindOperation(context.Request.Method, path);
        requests.Count(caller, context.Request.Method, operation?.PathTemplate ?? path);
        var decision = faults.Decide(vendor.Name, caller, path);
        if (decision.Latency > TimeSpan.Zero) await Task.Delay(decision.Latency, context.RequestAborted);
        switch (decision.Before)
        {
            case FaultKind.DropConnection:
                context.Abort();
                return;
            case FaultKind.TooManyRequests:
                await Write(context, vendor.Error(429, "Injected fault: rate limited.", retryAfter: TimeSpan.FromSeconds(decision.RetryAfterSeconds)));
                return;
            case FaultKind.ServerError:
                await Write(context, vendor.Error(500, "Injected fault: internal server error."));
                return;
            case FaultKind.ServiceUnavailable:
                await Write(context, vendor.Error(503, "Injected fault: service unavailable.", retryAfter: TimeSpan.FromSeconds(decision.RetryAfterSeconds)));
                return;
        }

        if (vendor.LimitFor(context.Request.Method, operation?.PathTemplate ?? path) is { } limit)
        {
            var limitedAs = context.Items.TryGetValue(SandboxItems.RateLimitKey, out var key) ? (string)key! : caller;
            if (!limiter.TryAcquire(limitedAs, limit, out var wait, out var remaining))
            {
                var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                await Write(context, vendor.Error(429, $"Rate limit exceeded ({limit.Bucket}). Expected available in {seconds} second(s).", retryAfter: TimeSpan.FromSeconds(seconds)));
                return;
            }
            var effective = limiter.Effective(limit, limitedAs);
            context.Response.Headers["RateLimit-Limit"] = (effective.PerMinute > 0 ? effective.PerMinute : effective.PerSecond).ToString();
            context.Response.Headers["RateLimit-Remaining"] = remaining.ToString();
        }

        if (!await ValidateRequestAsync(context, vendor, operation)) return;

        var originalBody = context.Response.Body;
        using var captured = new MemoryStream();
        context.Response.Body = captured;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = originalBody;
        }
        if (decision.FailAfterProcessing)
        {
            context.Response.Clear();
            await Write(context, vendor.Error(500, "Injected fault: the request was processed, then the answer failed."));
            return;
        }
        ValidateResponse(context, vendor, operation, captured.ToArray());
        captured.Position = 0;
        await captured.CopyToAsync(originalBody, context.RequestAborted);
    }

    private async Task<bool> ValidateRequestAsync(HttpContext context, ISimulatedVendor vendor, Specs.SpecOperation? operation)
    {
        var request = context.Request;
        if (request.ContentLength > MaxBodyBytes)
        {
            await Write(context, vendor.Error(413, "Request entity too large."));
            return false;
        }
        var schema = operation?.RequestSchema(vendor.MediaType);
        if (schema is null || !(request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) ?? false)) return true;

        request.EnableBuffering();
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException e)
        {
            Record("request", context, operation!, [$"not JSON: {e.Message}"]);
            await Write(context, vendor.Error(400, "The request body is not valid JSON."));
            return false;
        }
        finally
        {
            request.Body.Position = 0;
        }
        var errors = Specs.SchemaValidator.Validate(operation!.Document, schema, body);
        if (errors.Count == 0) return true;
        Record("request", context, operation, errors);
        await Write(context, vendor.Error(400, $"The request body has {errors.Count} error(s).", errors));
        return false;
    }

    private void ValidateResponse(HttpContext context, ISimulatedVendor vendor, Specs.SpecOperation? operation, byte[] body)
    {
        if (operation is null || !answerChecks.Checks(context.Request.Method, operation.PathTemplate)) return;
        var status = context.Response.StatusCode;
        var errors = new List<string>();
        // Vendors document few of their error statuses (LINE's profile 404 is real but undeclared), so only an
        // undeclared success is a violation; error bodies are still checked where a schema exists.
        if (status < 400 && !operation.DeclaresStatus(status))
            errors.Add($"status {status} is not declared");
        var schema = operation.ResponseSchema(status, vendor.MediaType);
        if (schema is not null && body.Length > 0)
        {
            try { errors.AddRange(Specs.SchemaValidator.Validate(operation.Document, schema, JsonNode.Parse(body))); }
            catch (JsonException e) { errors.Add($"answer is not JSON: {e.Message}"); }
        }
        if (errors.Count > 0) Record("response", context, operation, errors);
    }

    private void Record(string direction, HttpContext context, Specs.SpecOperation operation, IReadOnlyList<string> errors)
    {
        logger.LogWarning("Contract violation ({Direction}) {Method} {Path}: {Errors}", direction, context.Request.Method, context.Request.Path, string.Join("; ", errors));
        violations.Add(new ContractViolation(direction, context.Items[SandboxItems.Caller] as string, context.Request.Method, context.Request.Path, operation.PathTemplate, errors));
    }

    private static Task Write(HttpContext context, IResult result) => result.ExecuteAsync(context);
}

internal static class JsonBodies
{
    public static IResult Json(JsonNode body, int status, string contentType, TimeSpan? retryAfter = null) => new JsonResult(body, status, contentType, retryAfter);

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private sealed class JsonResult(JsonNode body, int status, string contentType, TimeSpan? retryAfter) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = contentType;
            if (retryAfter is { } wait)
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString();
            await context.Response.WriteAsync(body.ToJsonString(Relaxed), Encoding.UTF8);
        }
    }
}
