using System.Globalization;
using System.Text.Json.Nodes;
using Lumo.Core.Friends;
using Lumo.Core.Klaviyo;

namespace Lumo.Core.Segments;

/// <summary>
/// A Lumo Segment's rule: conditions on the friend (linked, follow status) and on the linked Klaviyo profile (list or
/// segment membership, a property compared with a value), combined with <c>all</c> (AND) and <c>any</c> (OR).
/// Klaviyo conditions are false for a friend who is not ID-linked: Lumo knows nothing of their Klaviyo side.
/// JSON: <c>{"all":[…]}</c>, <c>{"any":[…]}</c>, <c>{"linked":true}</c>, <c>{"followStatus":"friend"}</c>,
/// <c>{"inList":"Xy12ab"}</c>, <c>{"inSegment":"Xy12ab"}</c>,
/// <c>{"property":"tier","operator":"equals","value":"gold"}</c>.
/// </summary>
public abstract record SegmentCondition
{
    public const int MaxConditions = 50;
    public const int MaxDepth = 4;

    /// <summary>The Klaviyo lists and segments the rule reads.</summary>
    public IEnumerable<KlaviyoGroup> Groups() => this switch
    {
        AllOf all => all.Conditions.SelectMany(c => c.Groups()),
        AnyOf any => any.Conditions.SelectMany(c => c.Groups()),
        InKlaviyoGroup member => [member.Group],
        _ => [],
    };

    /// <summary>True when the rule compares Klaviyo profile properties, which have to be read per linked friend.</summary>
    public bool ReadsProperties => this switch
    {
        AllOf all => all.Conditions.Any(c => c.ReadsProperties),
        AnyOf any => any.Conditions.Any(c => c.ReadsProperties),
        PropertyComparison => true,
        _ => false,
    };

    /// <summary>Whether a friend matches, given the lists and segments their profile is in and the profile's properties.</summary>
    public abstract bool Matches(LineFriend friend, ISet<KlaviyoGroup> groupsOfProfile, KlaviyoProfile? profile);

    public abstract JsonNode ToJson();
}

public sealed record AllOf(IReadOnlyList<SegmentCondition> Conditions) : SegmentCondition
{
    public override bool Matches(LineFriend friend, ISet<KlaviyoGroup> groups, KlaviyoProfile? profile) => Conditions.All(c => c.Matches(friend, groups, profile));
    public override JsonNode ToJson() => new JsonObject { ["all"] = new JsonArray(Conditions.Select(c => c.ToJson()).ToArray()) };
}

public sealed record AnyOf(IReadOnlyList<SegmentCondition> Conditions) : SegmentCondition
{
    public override bool Matches(LineFriend friend, ISet<KlaviyoGroup> groups, KlaviyoProfile? profile) => Conditions.Any(c => c.Matches(friend, groups, profile));
    public override JsonNode ToJson() => new JsonObject { ["any"] = new JsonArray(Conditions.Select(c => c.ToJson()).ToArray()) };
}

public sealed record IsLinked(bool Linked) : SegmentCondition
{
    public override bool Matches(LineFriend friend, ISet<KlaviyoGroup> groups, KlaviyoProfile? profile) => friend.IsLinked == Linked;
    public override JsonNode ToJson() => new JsonObject { ["linked"] = Linked };
}

public sealed record HasFollowStatus(FollowStatus Status) : SegmentCondition
{
    public override bool Matches(LineFriend friend, ISet<KlaviyoGroup> groups, KlaviyoProfile? profile) => friend.FollowStatus == Status;
    public override JsonNode ToJson() => new JsonObject { ["followStatus"] = Status.ToString().ToLowerInvariant() };
}

public sealed record InKlaviyoGroup(KlaviyoGroup Group) : SegmentCondition
{
    public override bool Matches(LineFriend friend, ISet<KlaviyoGroup> groups, KlaviyoProfile? profile) => friend.IsLinked && groups.Contains(Group);
    public override JsonNode ToJson() => new JsonObject { [Group.Kind == KlaviyoGroupKind.List ? "inList" : "inSegment"] = Group.Id };
}

public enum PropertyOperator { Equals, Contains, Exists, GreaterThan, LessThan, Before, After }

public sealed record PropertyComparison(string Property, PropertyOperator Operator, JsonValue? Value) : SegmentCondition
{
    public static readonly IReadOnlyDictionary<string, PropertyOperator> OperatorNames = new Dictionary<string, PropertyOperator>
    {
        ["equals"] = PropertyOperator.Equals, ["contains"] = PropertyOperator.Contains, ["exists"] = PropertyOperator.Exists,
        ["greater-than"] = PropertyOperator.GreaterThan, ["less-than"] = PropertyOperator.LessThan,
        ["before"] = PropertyOperator.Before, ["after"] = PropertyOperator.After,
    };

    public override bool Matches(LineFriend friend, ISet<KlaviyoGroup> groups, KlaviyoProfile? profile)
    {
        if (!friend.IsLinked || profile is null || !profile.Properties.TryGetValue(Property, out var raw) || raw is not string json) return false;
        var actual = JsonNode.Parse(json);
        if (actual is null) return false; // a property set to null does not exist for Klaviyo's segments either
        return Operator switch
        {
            PropertyOperator.Exists => true,
            PropertyOperator.Equals => actual is JsonValue v && (Number(v) is { } n && Number(Value!) is { } m ? n == m : Text(v) == Text(Value!)),
            PropertyOperator.Contains => actual is JsonArray list ? list.Any(item => item is JsonValue iv && string.Equals(Text(iv), Text(Value!), StringComparison.OrdinalIgnoreCase))
                : actual is JsonValue text && Text(text)?.Contains(Text(Value!) ?? "", StringComparison.OrdinalIgnoreCase) == true,
            PropertyOperator.GreaterThan => actual is JsonValue v && Number(v) > Number(Value!),
            PropertyOperator.LessThan => actual is JsonValue v && Number(v) < Number(Value!),
            PropertyOperator.Before => actual is JsonValue v && Date(v) < Date(Value!),
            PropertyOperator.After => actual is JsonValue v && Date(v) > Date(Value!),
            _ => false,
        };
    }

    public override JsonNode ToJson()
    {
        var json = new JsonObject { ["property"] = Property, ["operator"] = OperatorNames.First(o => o.Value == Operator).Key };
        if (Value is not null) json["value"] = Value.DeepClone();
        return json;
    }

    internal static string? Text(JsonValue value) =>
        value.TryGetValue<string>(out var s) ? s : value.TryGetValue<bool>(out var b) ? (b ? "true" : "false") : value.ToJsonString();

    // Klaviyo keeps numbers typed, but CSV imports and forms leave numbers as text: both compare as numbers.
    internal static decimal? Number(JsonValue value) =>
        value.TryGetValue<decimal>(out var d) ? d
        : value.TryGetValue<string>(out var s) && decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;

    internal static DateTimeOffset? Date(JsonValue value) =>
        value.TryGetValue<string>(out var s) && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d) ? d : null;
}
