using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lumo.Core.LineWebhooks;

/// <summary>Parses a webhook body <c>{"destination": ..., "events": [...]}</c>; null when it is not one.</summary>
public static class LineWebhookParser
{
    public static IReadOnlyList<LineWebhookEvent>? TryParse(ReadOnlySpan<byte> body, out string? error)
    {
        error = null;
        try
        {
            var root = JsonNode.Parse(body) as JsonObject;
            if (root?["events"] is not JsonArray events)
            {
                error = "The body must be a JSON object with an \"events\" array.";
                return null;
            }
            if (events.Any(e => e is not JsonObject))
            {
                error = "Every event must be a JSON object.";
                return null;
            }
            return events.Select(e => new LineWebhookEvent((JsonObject)e!.DeepClone())).ToList();
        }
        catch (JsonException e)
        {
            error = $"The body is not valid JSON: {e.Message}";
            return null;
        }
    }
}
