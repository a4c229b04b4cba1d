namespace Lumo.Functions.Hosting;

/// <summary>
/// The answer to a non-HTTP invocation: <c>{"Outputs": {...}, "Logs": [...], "ReturnValue": ...}</c>.
/// Output bindings are named in Outputs; Logs show up in the host's invocation log.
/// </summary>
public sealed record InvocationResult(Dictionary<string, object?> Outputs, List<string> Logs, object? ReturnValue)
{
    public static InvocationResult Done(params string[] logs) => new([], [.. logs], null);

    public IResult ToHttpResult(int statusCode = StatusCodes.Status200OK) =>
        Results.Json(new Dictionary<string, object?> { ["Outputs"] = Outputs, ["Logs"] = Logs, ["ReturnValue"] = ReturnValue },
            statusCode: statusCode, contentType: "application/json");
}
