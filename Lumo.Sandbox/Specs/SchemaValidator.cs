using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using NJsonSchema;
using NJsonSchema.Validation;
using NJsonSchema.Validation.FormatValidators;

namespace Lumo.Sandbox.Specs;

/// <summary>
/// Validates JSON against a schema of a vendor's OpenAPI 3.0 document with NJsonSchema, a maintained JSON Schema
/// validator that also checks formats (date-time, email, uri, uuid…), enums, lengths, patterns and combinators. The
/// OpenAPI dialect is translated once per schema into plain JSON Schema: the <c>components/schemas</c> it reaches
/// become <c>definitions</c>, <c>nullable</c> becomes a <c>null</c> alternative, and a <c>discriminator</c>'s mapping
/// selects the concrete subtype (so a LINE text message is checked as a text message, not as any message).
/// Returns human-readable errors with JSON-pointer-like paths ("$.messages[0].text: is required").
/// </summary>
public static class SchemaValidator
{
    private const string ComponentPrefix = "#/components/schemas/";
    private static readonly ConditionalWeakTable<JsonNode, Lazy<JsonSchema>> Compiled = new();
    // Formats are checked only by the validators named here: the ones the vendors' documents use, and email.
    private static readonly JsonSchemaValidator Validator = new(new DateTimeFormatValidator(), new DateFormatValidator(), new TimeFormatValidator(),
        new UriFormatValidator(), new UuidFormatValidator(), new EmailFormatValidator());

    public static List<string> Validate(SpecDocument document, JsonNode? schema, JsonNode? value)
    {
        if (document.Resolve(schema) is not JsonObject) return [];
        var compiled = Compiled.GetValue(schema!, node => new Lazy<JsonSchema>(() => Compile(document, node))).Value;
        var errors = Validator.Validate(value?.ToJsonString() ?? "null", compiled);
        return errors.SelectMany(Describe).Distinct().ToList();
    }

    // Leaves only: the combinators' own errors ("not any of") say less than what failed inside them.
    private static IEnumerable<string> Describe(ValidationError error) => Leaves(error).Select(Describe1);

    private static IEnumerable<ValidationError> Leaves(ValidationError error)
    {
        if (error is not ChildSchemaValidationError { Errors.Count: > 0 } child) return [error];
        var alternatives = child.Errors.Values.Select(errors => errors.SelectMany(Leaves).ToList()).ToList();
        // Of anyOf/oneOf alternatives, the one meant is the one whose tag (enum) matched; then the one closest to passing.
        return error.Kind is ValidationErrorKind.NotAnyOf or ValidationErrorKind.NotOneOf
            ? alternatives.OrderBy(a => a.Any(e => e.Kind == ValidationErrorKind.NotInEnumeration)).ThenBy(a => a.Count).First()
            : alternatives.SelectMany(a => a);
    }

    private static string Describe1(ValidationError error)
    {
        var path = "$" + (error.Path ?? "#").TrimStart('#').Replace('/', '.');
        return error.Kind switch
        {
            ValidationErrorKind.PropertyRequired => $"{path}: is required",
            ValidationErrorKind.TooManyItems => $"{path}: at most {error.Schema?.MaxItems} items",
            ValidationErrorKind.TooFewItems => $"{path}: at least {error.Schema?.MinItems} items",
            ValidationErrorKind.StringTooLong => $"{path}: at most {error.Schema?.MaxLength} characters",
            ValidationErrorKind.StringTooShort => $"{path}: at least {error.Schema?.MinLength} characters",
            ValidationErrorKind.NoAdditionalPropertiesAllowed => $"{path}: is not a known property",
            ValidationErrorKind.NotInEnumeration => $"{path}: is not one of the allowed values",
            _ when error.Schema?.Format is { } format && (error.Kind == ValidationErrorKind.NoTypeValidates || error.Kind.ToString().EndsWith("Expected", StringComparison.Ordinal))
                => $"{path}: is not a valid {format}",
            _ => $"{path}: {error.Kind}",
        };
    }

    private static JsonSchema Compile(SpecDocument document, JsonNode schema)
    {
        var names = new HashSet<string>();
        Collect(document, schema, names);
        var discriminated = names.Where(n => document.Resolve(Component(n))?["discriminator"]?["mapping"] is JsonObject).ToHashSet();
        var definitions = new JsonObject();
        foreach (var name in names.Order(StringComparer.Ordinal))
        {
            var source = document.Resolve(Component(name))!;
            if (!discriminated.Contains(name))
            {
                definitions[Key(name)] = Translate(source, discriminated);
                continue;
            }
            // The base without its discriminator (what subtypes extend), and a dispatcher on the tag for everyone else.
            definitions[Key(name) + "__base"] = Translate(source, discriminated);
            var property = source["discriminator"]!["propertyName"]!.GetValue<string>();
            definitions[Key(name)] = new JsonObject
            {
                ["anyOf"] = new JsonArray(source["discriminator"]!["mapping"]!.AsObject().Select(m => (JsonNode)new JsonObject
                {
                    ["allOf"] = new JsonArray(
                        new JsonObject { ["required"] = new JsonArray(property), ["properties"] = new JsonObject { [property] = new JsonObject { ["enum"] = new JsonArray(m.Key) } } },
                        new JsonObject { ["$ref"] = "#/definitions/" + Key(m.Value!.GetValue<string>()[ComponentPrefix.Length..]) }),
                }).ToArray()),
            };
        }
        var root = Translate(schema, discriminated).AsObject();
        root["definitions"] = definitions;
        return JsonSchema.FromJsonAsync(root.ToJsonString()).GetAwaiter().GetResult();
    }

    private static JsonObject Component(string name) => new() { ["$ref"] = ComponentPrefix + name };

    // Definition keys must be plain JSON-pointer segments.
    private static string Key(string name) => name.Replace("~", "_").Replace("/", "_");

    private static void Collect(SpecDocument document, JsonNode? node, HashSet<string> names)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["$ref"]?.GetValue<string>() is { } reference && reference.StartsWith(ComponentPrefix, StringComparison.Ordinal)
                    && names.Add(reference[ComponentPrefix.Length..]))
                    Collect(document, document.Resolve(obj), names);
                if (obj["discriminator"]?["mapping"] is JsonObject mapping)
                    foreach (var (_, target) in mapping) Collect(document, new JsonObject { ["$ref"] = target!.GetValue<string>() }, names);
                foreach (var (key, child) in obj)
                    if (key != "$ref") Collect(document, child, names);
                break;
            case JsonArray array:
                foreach (var child in array) Collect(document, child, names);
                break;
        }
    }

    /// <summary>OpenAPI 3.0 schema → JSON Schema (draft 4, what NJsonSchema reads).</summary>
    private static JsonNode Translate(JsonNode node, ISet<string> discriminated, bool inAllOf = false)
    {
        if (node is JsonArray array) return new JsonArray(array.Select(item => (JsonNode?)(item is null ? null : Translate(item, discriminated, inAllOf))).ToArray());
        if (node is not JsonObject source) return node.DeepClone();
        var result = new JsonObject();
        foreach (var (key, value) in source)
        {
            switch (key)
            {
                case "$ref" when value!.GetValue<string>().StartsWith(ComponentPrefix, StringComparison.Ordinal):
                    var name = value.GetValue<string>()[ComponentPrefix.Length..];
                    result["$ref"] = "#/definitions/" + Key(name) + (inAllOf && discriminated.Contains(name) ? "__base" : "");
                    break;
                case "discriminator" or "nullable" or "example" or "examples" or "xml" or "externalDocs" or "deprecated" or "readOnly" or "writeOnly":
                    break;
                case "allOf":
                    result[key] = new JsonArray(value!.AsArray().Select(item => (JsonNode?)Translate(item!, discriminated, inAllOf: true)).ToArray());
                    break;
                case "properties" or "definitions":
                    result[key] = new JsonObject(value!.AsObject().Select(p => KeyValuePair.Create(p.Key, (JsonNode?)Translate(p.Value!, discriminated))));
                    break;
                default:
                    result[key] = value is null ? null : Translate(value, discriminated);
                    break;
            }
        }
        if (source["nullable"] is JsonValue nullable && nullable.TryGetValue<bool>(out var isNullable) && isNullable)
        {
            if (result["type"] is JsonValue type && type.TryGetValue<string>(out var typeName))
            {
                result["type"] = new JsonArray(typeName, "null");
                if (result["enum"] is JsonArray values) values.Add(null);
            }
            else
            {
                return new JsonObject { ["anyOf"] = new JsonArray(new JsonObject { ["type"] = "null" }, result) };
            }
        }
        return result;
    }
}
