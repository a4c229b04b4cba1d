using System.Security.Cryptography;
using System.Text;
using Lumo.Functions.Hosting;
using Microsoft.Extensions.Options;

namespace Lumo.Functions.Admin;

/// <summary>Refuses admin calls without the admin key (standalone mode), comparing in constant time.</summary>
internal sealed class AdminKeyFilter(HostingMode mode, IOptions<AdminKeyOptions> options, ILogger<AdminKeyFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (mode.IsUnderFunctionsHost || HasValidKey(context.HttpContext.Request, options.Value.Key))
            return await next(context);
        logger.LogWarning("Refused admin call {Method} {Path}: missing or wrong admin key", context.HttpContext.Request.Method, context.HttpContext.Request.Path);
        return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Admin key required",
            detail: "Send the admin key in the x-functions-key header (or the code query parameter).");
    }

    /// <summary>True when the request carries <paramref name="expected"/> like a Functions key (constant-time comparison).</summary>
    internal static bool HasValidKey(HttpRequest request, string? expected)
    {
        string? presented = request.Headers["x-functions-key"].FirstOrDefault() ?? request.Query["code"].FirstOrDefault();
        if (string.IsNullOrEmpty(expected) || string.IsNullOrEmpty(presented)) return false;
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
    }
}
