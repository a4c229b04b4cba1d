using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Lumo.Sandbox.Klaviyo;

/// <summary>
/// Renders a Flow webhook action's body the way Klaviyo does before posting it: Django-style <c>{{ expression|filter:arg }}</c>
/// output (HTML-escaped, as Klaviyo's templates autoescape), <c>{% for x in list %}</c> with <c>forloop.first/last/counter</c>,
/// <c>{% if [not] x %}…{% else %}…{% endif %}</c> and <c>{% catalog id %}…{% endcatalog %}</c> (binding <c>catalog_item</c>).
/// Variables are <c>person.*</c> (with <c>person|lookup:'Name With Spaces'</c>) and <c>event.*</c>, where <c>event.extra</c>
/// reads the property <c>$extra</c>. Filters: lookup, default, base64_encode, slice, length, upper, lower, safe.
/// An unknown tag or filter throws, as Klaviyo refuses to save such a template.
/// </summary>
public static partial class FlowWebhookTemplate
{
    public static string Render(string template, JsonObject person, JsonObject eventProperties, IReadOnlyDictionary<string, JsonObject>? catalog = null)
    {
        var position = 0;
        var nodes = Parse(Tokenize(template), ref position, []);
        var scope = new Dictionary<string, JsonNode?> { ["person"] = person, ["event"] = eventProperties };
        var output = new StringBuilder();
        Write(nodes, scope, catalog ?? new Dictionary<string, JsonObject>(), output);
        return output.ToString();
    }

    private abstract record Node;
    private sealed record Text(string Value) : Node;
    private sealed record Output(string Expression) : Node;
    private sealed record For(string Name, string List, List<Node> Body) : Node;
    private sealed record If(string Condition, List<Node> Then, List<Node> Else) : Node;
    private sealed record Catalog(string Id, List<Node> Body) : Node;

    private static List<string> Tokenize(string template) => Token().Split(template).Where(t => t.Length > 0).ToList();

    private static List<Node> Parse(List<string> tokens, ref int at, string[] endTags)
    {
        var nodes = new List<Node>();
        while (at < tokens.Count)
        {
            var token = tokens[at++];
            if (token.StartsWith("{{", StringComparison.Ordinal)) { nodes.Add(new Output(token[2..^2].Trim())); continue; }
            if (!token.StartsWith("{%", StringComparison.Ordinal)) { nodes.Add(new Text(token)); continue; }
            var words = token[2..^2].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (endTags.Contains(words[0])) { at--; return nodes; }
            switch (words[0])
            {
                case "for" when words.Length == 4 && words[2] == "in":
                    var body = Parse(tokens, ref at, ["endfor"]);
                    Expect(tokens, ref at, "endfor");
                    nodes.Add(new For(words[1], words[3], body));
                    break;
                case "if":
                    var then = Parse(tokens, ref at, ["else", "endif"]);
                    var otherwise = new List<Node>();
                    if (tokens[at][2..^2].Trim() == "else") { at++; otherwise = Parse(tokens, ref at, ["endif"]); }
                    Expect(tokens, ref at, "endif");
                    nodes.Add(new If(string.Join(' ', words[1..]), then, otherwise));
                    break;
                case "catalog" when words.Length >= 2:
                    var inner = Parse(tokens, ref at, ["endcatalog"]);
                    Expect(tokens, ref at, "endcatalog");
                    nodes.Add(new Catalog(words[1], inner));
                    break;
                default:
                    throw new FormatException($"Unsupported template tag '{token}'.");
            }
        }
        if (endTags.Length > 0) throw new FormatException($"Missing {{% {endTags[^1]} %}}.");
        return nodes;
    }

    private static void Expect(List<string> tokens, ref int at, string tag)
    {
        if (at >= tokens.Count || !tokens[at].StartsWith("{%", StringComparison.Ordinal) || tokens[at][2..^2].Trim() != tag) throw new FormatException($"Missing {{% {tag} %}}.");
        at++;
    }

    private static void Write(List<Node> nodes, Dictionary<string, JsonNode?> scope, IReadOnlyDictionary<string, JsonObject> catalog, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case Text text: output.Append(text.Value); break;
                case Output o:
                    var (value, safe) = Evaluate(o.Expression, scope);
                    var rendered = AsText(value);
                    output.Append(safe ? rendered : WebUtility.HtmlEncode(rendered));
                    break;
                case For loop:
                    var items = Evaluate(loop.List, scope).Value as JsonArray ?? [];
                    for (var i = 0; i < items.Count; i++)
                    {
                        var inner = new Dictionary<string, JsonNode?>(scope)
                        {
                            [loop.Name] = items[i],
                            ["forloop"] = new JsonObject { ["counter"] = i + 1, ["counter0"] = i, ["first"] = i == 0, ["last"] = i == items.Count - 1 },
                        };
                        Write(loop.Body, inner, catalog, output);
                    }
                    break;
                case If condition:
                    var negate = condition.Condition.StartsWith("not ", StringComparison.Ordinal);
                    var truthy = IsTruthy(Evaluate(negate ? condition.Condition[4..] : condition.Condition, scope).Value);
                    Write(truthy != negate ? condition.Then : condition.Else, scope, catalog, output);
                    break;
                case Catalog c:
                    if (catalog.TryGetValue(AsText(Evaluate(c.Id, scope).Value), out var item))
                        Write(c.Body, new Dictionary<string, JsonNode?>(scope) { ["catalog_item"] = item }, catalog, output);
                    break;
            }
        }
    }

    private static (JsonNode? Value, bool Safe) Evaluate(string expression, Dictionary<string, JsonNode?> scope)
    {
        var parts = Pipe().Split(expression.Trim());
        var value = Resolve(parts[0].Trim(), scope);
        var safe = false;
        foreach (var filter in parts.Skip(1))
        {
            var colon = filter.IndexOf(':');
            var name = colon < 0 ? filter.Trim() : filter[..colon].Trim();
            var argument = colon < 0 ? null : filter[(colon + 1)..].Trim();
            value = name switch
            {
                "lookup" => Child(value, Resolve(argument!, scope) is JsonValue key ? key.ToString() : ""),
                "default" => IsTruthy(value) ? value : Resolve(argument!, scope),
                "base64_encode" => JsonValue.Create(Convert.ToBase64String(Encoding.UTF8.GetBytes(AsText(value)))),
                "slice" => Slice(value, AsText(Resolve(argument!, scope))),
                "length" => JsonValue.Create(value is JsonArray a ? a.Count : AsText(value).Length),
                "upper" => JsonValue.Create(AsText(value).ToUpperInvariant()),
                "lower" => JsonValue.Create(AsText(value).ToLowerInvariant()),
                "safe" => value,
                _ => throw new FormatException($"Unsupported filter '{name}'."),
            };
            safe |= name == "safe";
        }
        return (value, safe);
    }

    // A quoted literal, a number, or a dotted path from the scope ("event.extra.line_items.0.title").
    private static JsonNode? Resolve(string path, Dictionary<string, JsonNode?> scope)
    {
        if (path.Length >= 2 && (path[0] == '\'' || path[0] == '"') && path[^1] == path[0]) return JsonValue.Create(path[1..^1]);
        if (decimal.TryParse(path, NumberStyles.Number, CultureInfo.InvariantCulture, out var number)) return JsonValue.Create(number);
        var names = path.Split('.');
        var value = scope.GetValueOrDefault(names[0]);
        foreach (var name in names.Skip(1)) value = Child(value, name);
        return value;
    }

    // Klaviyo reads event.extra as the property "$extra"; a number indexes a list.
    private static JsonNode? Child(JsonNode? value, string name) => value switch
    {
        JsonObject o => o.TryGetPropertyValue(name, out var child) ? child : o.TryGetPropertyValue("$" + name, out var dollar) ? dollar : null,
        JsonArray a when int.TryParse(name, out var index) && index >= 0 && index < a.Count => a[index],
        _ => null,
    };

    private static JsonNode? Slice(JsonNode? value, string range)
    {
        if (value is not JsonArray list) return value;
        var bounds = range.Split(':');
        var start = bounds[0].Length > 0 ? int.Parse(bounds[0], CultureInfo.InvariantCulture) : 0;
        var end = bounds.Length > 1 && bounds[1].Length > 0 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) : list.Count;
        return new JsonArray(list.Skip(start).Take(Math.Max(0, Math.Min(end, list.Count) - start)).Select(n => n?.DeepClone()).ToArray());
    }

    private static bool IsTruthy(JsonNode? value) => value switch
    {
        null => false,
        JsonArray a => a.Count > 0,
        JsonObject o => o.Count > 0,
        JsonValue v when v.GetValueKind() == JsonValueKind.False => false,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => decimal.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture) != 0,
        _ => AsText(value).Length > 0,
    };

    // Python's str() of what Klaviyo holds: numbers as written, booleans as True/False, nothing as "".
    private static string AsText(JsonNode? value) => value switch
    {
        null => "",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.True => "True",
        JsonValue v when v.GetValueKind() == JsonValueKind.False => "False",
        _ => value.ToJsonString(),
    };

    [GeneratedRegex(@"(\{\{.*?\}\}|\{%.*?%\})", RegexOptions.Singleline)]
    private static partial Regex Token();

    // Filters are separated by '|' outside quotes.
    [GeneratedRegex(@"\|(?=(?:[^']*'[^']*')*[^']*$)")]
    private static partial Regex Pipe();
}
