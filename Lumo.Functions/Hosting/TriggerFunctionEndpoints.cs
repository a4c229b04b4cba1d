namespace Lumo.Functions.Hosting;

/// <summary>Marks an endpoint as the target of a non-HTTP function's invocations.</summary>
public sealed record TriggerFunctionMetadata(string FunctionName);

public static class TriggerFunctionEndpoints
{
    /// <summary>
    /// Maps <c>POST /{functionName}</c>, the address the host posts timer and queue invocations to. A handler that
    /// throws answers 500 with the error in Logs, which makes the host (or the standalone runner) retry the message
    /// and finally move it to the poison queue.
    /// </summary>
    public static RouteHandlerBuilder MapTriggerFunction(this IEndpointRouteBuilder routes, string functionName, Delegate handler) =>
        routes.MapPost("/" + functionName, handler)
            .WithMetadata(new TriggerFunctionMetadata(functionName))
            .AddEndpointFilter(async (context, next) =>
            {
                var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Lumo.Functions." + functionName);
                if (!MayInvoke(context.HttpContext))
                {
                    logger.LogWarning("Refused an invocation of {FunctionName} without the admin key", functionName);
                    return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Admin key required",
                        detail: "This app listens beyond loopback: trigger endpoints need the admin key in the x-functions-key header.");
                }
                // Correlation: every log line and the request's trace carry the function and this invocation's id.
                System.Diagnostics.Activity.Current?.SetTag("faas.name", functionName).SetTag("faas.invocation_id", context.HttpContext.TraceIdentifier);
                using var scope = logger.BeginScope(new Dictionary<string, object> { ["FunctionName"] = functionName, ["InvocationId"] = context.HttpContext.TraceIdentifier });
                try
                {
                    return await next(context);
                }
                catch (Exception e) when (e is not BadHttpRequestException && !context.HttpContext.RequestAborted.IsCancellationRequested)
                {
                    logger.LogError(e, "Function {FunctionName} failed", functionName);
                    return new InvocationResult([], [$"{functionName} failed: {e.GetType().Name}: {e.Message}"], null)
                        .ToHttpResult(StatusCodes.Status500InternalServerError);
                }
            })
            .ExcludeFromDescription();

    // Under the Functions host we listen on loopback only and the host is the caller. Standalone, a binding beyond
    // loopback would let anyone on the network post queue messages of their choosing: the admin key is required then.
    private static bool MayInvoke(HttpContext context)
    {
        var services = context.RequestServices;
        if (services.GetRequiredService<HostingMode>().IsUnderFunctionsHost || !StandaloneBinding.IsExposed(services.GetRequiredService<IConfiguration>()))
            return true;
        return Admin.AdminKeyFilter.HasValidKey(context.Request, services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Admin.AdminKeyOptions>>().Value.Key);
    }

    /// <summary>
    /// Answers <c>GET /</c> (the host's readiness probe) and turns invocations of unknown functions into a 404
    /// problem instead of an empty answer.
    /// </summary>
    public static IEndpointRouteBuilder MapCustomHandlerProtocol(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/", () => Results.Ok(new { status = "ready" })).ExcludeFromDescription();
        routes.MapPost("/{functionName}", (string functionName, ILoggerFactory loggers) =>
        {
            loggers.CreateLogger("Lumo.Functions").LogWarning("Invocation of unknown function {FunctionName}", functionName);
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown function",
                detail: $"No function named '{functionName}' is served by this app.");
        }).ExcludeFromDescription();
        return routes;
    }
}
