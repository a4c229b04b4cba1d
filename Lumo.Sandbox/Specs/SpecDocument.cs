using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Lumo.Sandbox.Specs;

/// <summary>One operation of an OpenAPI document, found by method and concrete path.</summary>
public sealed record SpecOperation(SpecDocument Document, string Method, string PathTemplate, JsonObject Operation)
{
    /// <summary>The request body schema for a media type, if the operation declares one.</summary>
    public JsonNode? RequestSchema(string mediaType) => Document.Resolve(Operation["requestBody"])?["content"]?[mediaType]?["schema"];

    /// <summary>The response schema for a status (exact, then "4XX"-style range, then "default").</summary>
    public JsonNode? ResponseSchema(int status, string mediaType)
    {
        var responses = Operation["responses"]?.AsObject();
        if (responses is null) return null;
        var response = responses[status.ToString()] ?? responses[$"{status / 100}XX"] ?? responses["default"];
        return Document.Resolve(response)?["content"]?[mediaType]?["schema"];
    }

    public bool DeclaresStatus(int status)
    {
        var responses = Operation["responses"]?.AsObject();
        return responses is null || responses.ContainsKey(status.ToString()) || responses.ContainsKey($"{status / 100}XX") || responses.ContainsKey("default");
    }
}

/// <summary>
/// A vendor's OpenAPI document (JSON or YAML) held as a JSON tree, with path matching and <c>$ref</c> resolution.
/// The documents are the vendors' own published files in shared/specs; see <see cref="SpecLibrary"/>.
/// </summary>
public sealed class SpecDocument
{
    private readonly JsonObject _root;
    private readonly List<(Regex Pattern, string Template, int Literals)> _paths;

    public SpecDocument(string name, JsonObject root)
    {
        Name = name;
        _root = root;
        _paths = (root["paths"]?.AsObject() ?? [])
            .Select(p => (new Regex("^" + Regex.Replace(Regex.Escape(p.Key), @"\\\{[^}]+}", "[^/]+") + "$"), p.Key, p.Key.Count(c => c != '{')))
            .OrderByDescending(p => p.Item3)
            .ToList();
    }

    public string Name { get; }

    public SpecOperation? FindOperation(string method, string path)
    {
        foreach (var (pattern, template, _) in _paths)
        {
            if (!pattern.IsMatch(path)) continue;
            if (_root["paths"]![template]![method.ToLowerInvariant()] is JsonObject operation)
                return new SpecOperation(this, method.ToUpperInvariant(), template, operation);
        }
        return null;
    }

    /// <summary>Follows <c>$ref</c> chains inside this document.</summary>
    public JsonNode? Resolve(JsonNode? node)
    {
        for (var hops = 0; hops < 32 && node is JsonObject obj && obj["$ref"]?.GetValue<string>() is { } reference; hops++)
        {
            if (!reference.StartsWith("#/", StringComparison.Ordinal))
                throw new NotSupportedException($"External $ref {reference} in {Name}");
            node = reference[2..].Split('/').Aggregate((JsonNode?)_root, (current, segment) => current?[segment.Replace("~1", "/").Replace("~0", "~")]);
        }
        return node;
    }

    public static SpecDocument Load(string path)
    {
        var text = File.ReadAllText(path);
        var root = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? JsonNode.Parse(text)!.AsObject() : YamlToJson(text).AsObject();
        return new SpecDocument(Path.GetFileNameWithoutExtension(path), root);
    }

    private static JsonNode YamlToJson(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return Convert(stream.Documents[0].RootNode)!;
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, Convert(c.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    // Plain (unquoted) YAML scalars carry types; quoted ones are always strings.
    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is not YamlDotNet.Core.ScalarStyle.Plain) return JsonValue.Create(value);
        if (value is "~" or "null" or "") return null;
        if (value is "true" or "false") return JsonValue.Create(value == "true");
        // Parsed rather than created, so that numbers read back as any numeric type, like numbers from JSON.
        if (double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _)
            && (char.IsDigit(value[0]) || value[0] == '-'))
        {
            try { return JsonNode.Parse(value); }
            catch (System.Text.Json.JsonException) { /* e.g. 0123: not a JSON number, keep the text */ }
        }
        return JsonValue.Create(value);
    }
}
