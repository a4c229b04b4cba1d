using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Lumo.Core.AutoSendMessages;

/// <summary>
/// A reusable LINE message for Flow sends: up to five LINE message objects (text, image, flex, sticker) whose
/// strings may hold <c>{{variable}}</c> placeholders, filled from the Flow webhook body's <c>variables</c> at send
/// time. Lumo-specific message types (product cards, filled from Shopify and trigger events) are meant to be
/// expanded in <see cref="Render"/> as well; none exists yet.
/// </summary>
public sealed partial record AutoSendMessage
{
    public required string WorkspaceId { get; init; }
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required JsonArray Messages { get; init; }
    /// <summary>Whether this message's links and images are tracked (when its LINE account tracks at all).</summary>
    public bool TrackOpensAndClicks { get; init; } = true;
    /// <summary>UTM parameters this message sets instead of the defaults (e.g. its own <c>utm_campaign</c>).</summary>
    public IReadOnlyDictionary<string, string> Utm { get; init; } = new Dictionary<string, string>();
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The placeholder names used anywhere in the messages, in order of first use.</summary>
    public IReadOnlyList<string> Variables => VariablesIn(Messages);

    public static IReadOnlyList<string> VariablesIn(JsonNode node) =>
        Placeholder().Matches(node.ToJsonString()).Select(m => m.Groups[1].Value).Distinct().ToList();

    /// <summary>The LINE messages with every placeholder replaced; missing variables are reported, not left in.</summary>
    public JsonArray Render(IReadOnlyDictionary<string, string> variables, out IReadOnlyList<string> missing)
    {
        var absent = Variables.Where(v => !variables.ContainsKey(v)).ToList();
        missing = absent;
        return (JsonArray)Replace(Messages.DeepClone(), variables)!;
    }

    private static JsonNode? Replace(JsonNode? node, IReadOnlyDictionary<string, string> variables) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, Replace(p.Value?.DeepClone(), variables)))),
        JsonArray array => new JsonArray(array.Select(item => Replace(item?.DeepClone(), variables)).ToArray()),
        JsonValue value when value.TryGetValue<string>(out var text) =>
            JsonValue.Create(Placeholder().Replace(text, m => variables.TryGetValue(m.Groups[1].Value, out var v) ? v : "")),
        _ => node,
    };

    [GeneratedRegex(@"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")]
    private static partial Regex Placeholder();
}
