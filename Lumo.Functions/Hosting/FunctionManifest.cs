using System.Text.Json.Nodes;

namespace Lumo.Functions.Hosting;

/// <summary>One function as its function.json declares it.</summary>
public sealed record FunctionDefinition(string Name, string TriggerType, JsonObject Trigger)
{
    public bool IsHttp => TriggerType == "httpTrigger";
    public bool IsQueue => TriggerType == "queueTrigger";
    public bool IsTimer => TriggerType == "timerTrigger";

    public string BindingName => Trigger["name"]?.GetValue<string>() ?? throw new InvalidDataException($"{Name}: the trigger binding has no name.");
    public string? Route => Trigger["route"]?.GetValue<string>();
    public string? AuthLevel => Trigger["authLevel"]?.GetValue<string>();
    public IReadOnlyList<string> Methods => Trigger["methods"]?.AsArray().Select(m => m!.GetValue<string>().ToUpperInvariant()).ToList() ?? [];
    public string? QueueName => Trigger["queueName"]?.GetValue<string>();
    public string? Schedule => Trigger["schedule"]?.GetValue<string>();
    public bool RunOnStartup => Trigger["runOnStartup"]?.GetValue<bool>() ?? false;
}

/// <summary>
/// The function.json folders beside the app (the function app root), read once. The same files drive the Azure
/// Functions host and the standalone trigger runner, so the two cannot disagree.
/// </summary>
public sealed class FunctionManifest
{
    public FunctionManifest(string appRoot)
    {
        var functions = new List<FunctionDefinition>();
        foreach (var file in Directory.EnumerateFiles(appRoot, "function.json", SearchOption.AllDirectories)
                     .Where(f => Path.GetDirectoryName(Path.GetDirectoryName(f)) == Path.GetFullPath(appRoot).TrimEnd(Path.DirectorySeparatorChar)))
        {
            var name = Path.GetFileName(Path.GetDirectoryName(file))!;
            var bindings = JsonNode.Parse(File.ReadAllText(file))?["bindings"]?.AsArray()
                           ?? throw new InvalidDataException($"{file} has no bindings.");
            var trigger = bindings.OfType<JsonObject>().SingleOrDefault(b => b["type"]?.GetValue<string>()?.EndsWith("Trigger", StringComparison.Ordinal) == true)
                          ?? throw new InvalidDataException($"{file} must have exactly one trigger binding.");
            functions.Add(new FunctionDefinition(name, trigger["type"]!.GetValue<string>(), trigger));
        }
        Functions = functions.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
    }

    public IReadOnlyList<FunctionDefinition> Functions { get; }

    public static FunctionManifest FromAppBase() => new(AppContext.BaseDirectory);
}
