using System.Text.Json;
using System.Text.Json.Nodes;
using Lumo.Core;

namespace Lumo.Functions.Hosting;

/// <summary>
/// The request body the Functions host (or the standalone runner) posts to <c>/{FunctionName}</c> for a non-HTTP
/// trigger: <c>{"Data": {binding: value}, "Metadata": {...}}</c>
/// (https://learn.microsoft.com/azure/azure-functions/functions-custom-handlers#request-payload).
/// Bound as a handler parameter; a body that is not such an envelope answers 400.
/// </summary>
public sealed class InvocationEnvelope
{
    private InvocationEnvelope(JsonObject data, JsonObject metadata)
    {
        Data = data;
        Metadata = metadata;
    }

    public JsonObject Data { get; }
    public JsonObject Metadata { get; }

    /// <summary>Queue triggers: how often this message has been handed out, the current attempt included.</summary>
    public int DequeueCount => ReadInt(Metadata["DequeueCount"]) ?? 1;

    public string? MessageId => Unwrap(Metadata["Id"]) is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>
    /// The binding's value as <typeparamref name="T"/>. The host JSON-encodes non-object values, so a queue message
    /// may arrive as an object, as a JSON string holding the JSON text, or encoded twice; all three are accepted.
    /// </summary>
    public T GetData<T>(string bindingName)
    {
        var node = Unwrap(Data[bindingName]) ?? throw new InvocationFormatException($"Data.{bindingName} is missing.");
        try
        {
            return node.Deserialize<T>(LumoJson.Options) ?? throw new InvocationFormatException($"Data.{bindingName} is null.");
        }
        catch (JsonException e)
        {
            throw new InvocationFormatException($"Data.{bindingName} is not a valid {typeof(T).Name}: {e.Message}");
        }
    }

    public static async ValueTask<InvocationEnvelope> BindAsync(HttpContext context)
    {
        try
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            if (body is not JsonObject root || Property(root, "Data") is not JsonObject data)
                throw new InvocationFormatException("The body must be an invocation envelope: {\"Data\": {...}, \"Metadata\": {...}}.");
            return new InvocationEnvelope(data, Property(root, "Metadata") as JsonObject ?? []);
        }
        catch (JsonException e)
        {
            throw new InvocationFormatException($"The body is not JSON: {e.Message}");
        }
    }

    private static JsonNode? Property(JsonObject obj, string name) =>
        obj.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Peels JSON strings that themselves hold JSON (the host's double encoding), leaving plain strings alone.</summary>
    internal static JsonNode? Unwrap(JsonNode? node)
    {
        for (var depth = 0; depth < 3 && node is JsonValue value && value.TryGetValue<string>(out var text); depth++)
        {
            var trimmed = text.TrimStart();
            if (trimmed.Length == 0 || trimmed[0] is not ('{' or '[' or '"')) break;
            try { node = JsonNode.Parse(text); }
            catch (JsonException) { break; }
        }
        return node;
    }

    private static int? ReadInt(JsonNode? node) => Unwrap(node) switch
    {
        JsonValue v when v.TryGetValue<int>(out var i) => i,
        JsonValue v when v.TryGetValue<long>(out var l) => (int)l,
        JsonValue v when v.TryGetValue<string>(out var s) && int.TryParse(s, out var p) => p,
        _ => null,
    };
}

/// <summary>The invocation body is not what the custom-handler protocol promises.</summary>
public sealed class InvocationFormatException(string message) : BadHttpRequestException(message, StatusCodes.Status400BadRequest);
