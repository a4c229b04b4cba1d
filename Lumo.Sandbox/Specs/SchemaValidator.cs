using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Lumo.Sandbox.Specs;

/// <summary>
/// Validates JSON against an OpenAPI 3.0 schema: types, nullable, required, properties, additionalProperties,
/// enum, lengths, item counts, numeric bounds, patterns, allOf/oneOf/anyOf and discriminators. Formats are not
/// checked. Returns human-readable errors with JSON-pointer-like paths.
/// </summary>
public static class SchemaValidator
{
    public static List<string> Validate(SpecDocument document, JsonNode? schema, JsonNode? value)
    {
        var errors = new List<string>();
        Check(document, schema, value, "$", errors, skipDiscriminator: false, depth: 0);
        return errors;
    }

    private static void Check(SpecDocument doc, JsonNode? schemaNode, JsonNode? value, string path, List<string> errors, bool skipDiscriminator, int depth)
    {
        if (depth > 64 || doc.Resolve(schemaNode) is not JsonObject schema) return;

        if (value is null)
        {
            if (Bool(schema["nullable"]) || schema["type"] is null) return;
            errors.Add($"{path}: must not be null");
            return;
        }

        if (schema["allOf"] is JsonArray allOf)
            foreach (var part in allOf) Check(doc, part, value, path, errors, skipDiscriminator: true, depth + 1);

        if (!skipDiscriminator && schema["discriminator"] is JsonObject discriminator && value is JsonObject discriminated)
        {
            var property = discriminator["propertyName"]!.GetValue<string>();
            var tag = discriminated[property] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            var target = tag is null ? null : discriminator["mapping"]?[tag]?.GetValue<string>();
            if (tag is null)
                errors.Add($"{path}.{property}: is required");
            else if (target is null)
                errors.Add($"{path}.{property}: '{tag}' is not a known type");
            else
                Check(doc, new JsonObject { ["$ref"] = target }, value, path, errors, skipDiscriminator: true, depth + 1);
        }

        foreach (var keyword in new[] { "oneOf", "anyOf" })
        {
            if (schema[keyword] is not JsonArray choices || (schema["discriminator"] is not null && !skipDiscriminator)) continue;
            var best = (List<string>?)null;
            foreach (var choice in choices)
            {
                var attempt = new List<string>();
                Check(doc, choice, value, path, attempt, skipDiscriminator, depth + 1);
                if (attempt.Count == 0) { best = null; goto matched; }
                if (best is null || attempt.Count < best.Count) best = attempt;
            }
            errors.Add($"{path}: matches none of the {keyword} alternatives ({string.Join("; ", best ?? [])})");
            matched:;
        }

        var type = schema["type"]?.GetValue<string>();
        if (type is not null && !HasType(value, type))
        {
            errors.Add($"{path}: must be {type}");
            return;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
            errors.Add($"{path}: '{value.ToJsonString()}' is not one of {allowed.ToJsonString()}");

        switch (value)
        {
            case JsonObject obj:
                CheckObject(doc, schema, obj, path, errors, depth);
                break;
            case JsonArray array:
                if (Int(schema["maxItems"]) is { } maxItems && array.Count > maxItems) errors.Add($"{path}: at most {maxItems} items");
                if (Int(schema["minItems"]) is { } minItems && array.Count < minItems) errors.Add($"{path}: at least {minItems} items");
                if (schema["items"] is { } items)
                    for (var i = 0; i < array.Count; i++) Check(doc, items, array[i], $"{path}[{i}]", errors, false, depth + 1);
                break;
            case JsonValue scalar when scalar.TryGetValue<string>(out var text):
                if (Int(schema["maxLength"]) is { } maxLength && text.Length > maxLength) errors.Add($"{path}: at most {maxLength} characters");
                if (Int(schema["minLength"]) is { } minLength && text.Length < minLength) errors.Add($"{path}: at least {minLength} characters");
                if (schema["pattern"]?.GetValue<string>() is { } pattern && !Regex.IsMatch(text, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)))
                    errors.Add($"{path}: does not match {pattern}");
                break;
            case JsonValue number when number.TryGetValue<double>(out var d):
                if (Double(schema["maximum"]) is { } max && d > max) errors.Add($"{path}: at most {max}");
                if (Double(schema["minimum"]) is { } min && d < min) errors.Add($"{path}: at least {min}");
                break;
        }
    }

    private static void CheckObject(SpecDocument doc, JsonObject schema, JsonObject obj, string path, List<string> errors, int depth)
    {
        var properties = schema["properties"] as JsonObject;
        if (schema["required"] is JsonArray required)
            foreach (var name in required.Select(r => r!.GetValue<string>()).Where(n => !obj.ContainsKey(n)))
                errors.Add($"{path}.{name}: is required");
        foreach (var (name, child) in obj)
        {
            if (properties?[name] is { } propertySchema)
                Check(doc, propertySchema, child, $"{path}.{name}", errors, false, depth + 1);
            else if (schema["additionalProperties"] is JsonValue additional && additional.TryGetValue<bool>(out var allowedExtra) && !allowedExtra)
                errors.Add($"{path}.{name}: is not a known property");
            else if (schema["additionalProperties"] is JsonObject additionalSchema)
                Check(doc, additionalSchema, child, $"{path}.{name}", errors, false, depth + 1);
        }
    }

    private static bool HasType(JsonNode value, string type) => type switch
    {
        "object" => value is JsonObject,
        "array" => value is JsonArray,
        "string" => value is JsonValue v && v.TryGetValue<string>(out _),
        "boolean" => value is JsonValue v && v.TryGetValue<bool>(out _),
        "integer" => value is JsonValue v && v.TryGetValue<double>(out var d) && Math.Abs(d % 1) < double.Epsilon,
        "number" => value is JsonValue v && v.TryGetValue<double>(out _),
        _ => true,
    };

    private static bool Bool(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b) && b;
    private static int? Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? (int)d : null;
    private static double? Double(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;
}
