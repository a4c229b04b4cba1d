using System.Text.Json.Nodes;
using Lumo.Core.Friends;
using Lumo.Core.Klaviyo;

namespace Lumo.Core.Segments;

/// <summary>
/// Reads a segment rule from its JSON, collecting every problem under the path of the condition it is about
/// (<c>conditions.all[1].value</c>), so that an admin sees all of them at once and nothing invalid is stored.
/// </summary>
public static class SegmentConditionParser
{
    public const int MaxValueLength = 1_000;

    public static SegmentCondition? Parse(JsonNode? node, string path, Dictionary<string, string[]> errors)
    {
        var count = 0;
        var condition = Parse(node, path, 1, ref count, errors);
        if (count > SegmentCondition.MaxConditions)
            errors[path] = [$"A segment has at most {SegmentCondition.MaxConditions} conditions."];
        return errors.Count == 0 ? condition : null;
    }

    private static SegmentCondition? Parse(JsonNode? node, string path, int depth, ref int count, Dictionary<string, string[]> errors)
    {
        if (++count > SegmentCondition.MaxConditions) return null; // reported once, by the caller
        if (node is not JsonObject json || json.Count == 0)
            return Fail(errors, path, "A condition is an object such as {\"linked\": true}, {\"inList\": \"<list id>\"} or {\"all\": [...]}.");
        if (json.ContainsKey("all") || json.ContainsKey("any"))
        {
            var kind = json.ContainsKey("all") ? "all" : "any";
            if (json.Count != 1) return Fail(errors, path, $"\"{kind}\" stands alone in its object.");
            if (depth > SegmentCondition.MaxDepth) return Fail(errors, path, $"Conditions nest at most {SegmentCondition.MaxDepth} levels deep.");
            if (json[kind] is not JsonArray { Count: > 0 } items) return Fail(errors, $"{path}.{kind}", $"\"{kind}\" needs a non-empty list of conditions.");
            var parts = new List<SegmentCondition>();
            for (var i = 0; i < items.Count && count <= SegmentCondition.MaxConditions; i++)
                if (Parse(items[i], $"{path}.{kind}[{i}]", depth + 1, ref count, errors) is { } part) parts.Add(part);
            return kind == "all" ? new AllOf(parts) : new AnyOf(parts);
        }
        if (json.ContainsKey("property")) return Property(json, path, errors);
        if (json.Count != 1) return Fail(errors, path, "One condition per object; combine them with \"all\" or \"any\".");
        var (name, value) = json.First();
        switch (name)
        {
            case "linked":
                return value is JsonValue v && v.TryGetValue<bool>(out var linked) ? new IsLinked(linked) : Fail(errors, $"{path}.linked", "\"linked\" is true or false.");
            case "followStatus":
                return value is JsonValue s && s.TryGetValue<string>(out var status) && status is "friend" or "blocked"
                    ? new HasFollowStatus(status == "friend" ? FollowStatus.Friend : FollowStatus.Blocked)
                    : Fail(errors, $"{path}.followStatus", "\"followStatus\" is \"friend\" or \"blocked\".");
            case "inList" or "inSegment":
                var kind = name == "inList" ? KlaviyoGroupKind.List : KlaviyoGroupKind.Segment;
                return value is JsonValue g && g.TryGetValue<string>(out var id) && Ids.IsKlaviyoId(id)
                    ? new InKlaviyoGroup(new KlaviyoGroup(kind, id))
                    : Fail(errors, $"{path}.{name}", $"\"{name}\" is the id of a Klaviyo {(kind == KlaviyoGroupKind.List ? "list" : "segment")} (letters and digits).");
            default:
                return Fail(errors, $"{path}.{name}", $"Unknown condition \"{name}\". Use linked, followStatus, inList, inSegment, property, all or any.");
        }
    }

    private static SegmentCondition? Property(JsonObject json, string path, Dictionary<string, string[]> errors)
    {
        var before = errors.Count;
        var name = json["property"] is JsonValue p && p.TryGetValue<string>(out var n) ? n.Trim() : null;
        if (string.IsNullOrEmpty(name) || name.Length > 200)
            errors[$"{path}.property"] = ["Name the Klaviyo profile property (a custom property, at most 200 characters)."];
        var operatorName = json["operator"] is JsonValue o && o.TryGetValue<string>(out var op) ? op : null;
        if (operatorName is null || !PropertyComparison.OperatorNames.TryGetValue(operatorName, out var @operator))
        {
            errors[$"{path}.operator"] = [$"The operator is one of {string.Join(", ", PropertyComparison.OperatorNames.Keys)}."];
            @operator = PropertyOperator.Exists;
        }
        var value = json["value"] as JsonValue;
        if (json.Any(pair => pair.Key is not ("property" or "operator" or "value")))
            errors[path] = ["A property condition has \"property\", \"operator\" and \"value\" only."];
        else if (errors.Count == before && @operator != PropertyOperator.Exists && value is null)
            errors[$"{path}.value"] = [$"\"{operatorName}\" compares with a value: give one (text, number or true/false)."];
        else if (errors.Count == before && @operator is PropertyOperator.GreaterThan or PropertyOperator.LessThan && PropertyComparison.Number(value!) is null)
            errors[$"{path}.value"] = [$"\"{operatorName}\" compares numbers: the value must be a number."];
        else if (errors.Count == before && @operator is PropertyOperator.Before or PropertyOperator.After && PropertyComparison.Date(value!) is null)
            errors[$"{path}.value"] = [$"\"{operatorName}\" compares dates: the value must be an ISO 8601 date such as 2026-12-01 or 2026-12-01T09:00:00+09:00."];
        else if (errors.Count == before && value is not null && PropertyComparison.Text(value) is { Length: > MaxValueLength })
            errors[$"{path}.value"] = [$"A value has at most {MaxValueLength} characters."];
        else if (errors.Count == before && @operator == PropertyOperator.Contains && PropertyComparison.Text(value!) is not { Length: > 0 })
            errors[$"{path}.value"] = ["\"contains\" needs something to look for."];
        else if (errors.Count == before && @operator == PropertyOperator.Exists && value is not null)
            errors[$"{path}.value"] = ["\"exists\" takes no value."];
        return errors.Count == before ? new PropertyComparison(name!, @operator, (JsonValue?)value?.DeepClone()) : null;
    }

    private static SegmentCondition? Fail(Dictionary<string, string[]> errors, string path, string message)
    {
        errors[path] = [message];
        return null;
    }
}
