using Lumo.Core;

namespace Lumo.Functions.Hosting;

/// <summary>
/// Every id taken from a route is checked against its real format (<see cref="Ids"/>) once, here, before any handler
/// can put it in a table key. So no route can address the rows that live beside friends ("~profile:…", "~email:…"),
/// and no key ever holds '/', '\', '#', '?' or control characters. A malformed id answers 400 naming it, and nothing
/// is read or written.
/// </summary>
public static class RouteIdValidation
{
    private static readonly Dictionary<string, (Func<string?, bool> IsValid, string Format)> Formats = new()
    {
        ["workspaceId"] = (Ids.IsLumoId, "16 lower-case hexadecimal characters"),
        ["accountId"] = (Ids.IsLumoId, "16 lower-case hexadecimal characters"),
        ["messageId"] = (Ids.IsLumoId, "16 lower-case hexadecimal characters"),
        ["segmentId"] = (Ids.IsLumoId, "16 lower-case hexadecimal characters"),
        ["broadcastId"] = (Ids.IsLumoId, "16 lower-case hexadecimal characters"),
        ["menuId"] = (Ids.IsLumoId, "16 lower-case hexadecimal characters"),
        ["codeId"] = (Ids.IsQrCodeId, "12 lower-case hexadecimal characters"),
        ["runId"] = (Ids.IsSyncRunId, "a sync run id: 19 digits, a dash and 8 lower-case hexadecimal characters"),
        ["userId"] = (Ids.IsLineUserId, "a LINE user ID: U followed by 32 lower-case hexadecimal characters"),
    };

    public static IApplicationBuilder UseRouteIdValidation(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var errors = context.Request.RouteValues
            .Where(v => Formats.TryGetValue(v.Key, out var format) && !format.IsValid(v.Value as string))
            .ToDictionary(v => v.Key, v => new[] { $"Not an id of this kind: {v.Key} is {Formats[v.Key].Format}." });
        if (errors.Count == 0)
        {
            await next(context);
            return;
        }
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Lumo.Edge")
            .LogWarning("Refused {Method} {Route}: malformed {Ids}", context.Request.Method, (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText, string.Join(", ", errors.Keys));
        await Results.ValidationProblem(errors, title: "Malformed id").ExecuteAsync(context);
    });
}
