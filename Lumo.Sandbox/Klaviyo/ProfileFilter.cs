using System.Text.RegularExpressions;

namespace Lumo.Sandbox.Klaviyo;

/// <summary>
/// The subset of Klaviyo's filter syntax (https://developers.klaviyo.com/en/docs/filtering_) that profile
/// look-ups use: <c>equals(field,"v")</c>, <c>any(field,["a","b"])</c> and <c>greater-than(updated,2024-01-01T00:00:00Z)</c>
/// on email, phone_number, external_id, id and updated, combined by <c>and(...)</c> or commas.
/// </summary>
public static partial class ProfileFilter
{
    public static Func<SimulatedProfile, bool>? TryParse(string? filter, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(filter)) return _ => true;
        var text = filter.Trim();
        if (text.StartsWith("and(", StringComparison.Ordinal) && text.EndsWith(')')) text = text[4..^1];
        var predicates = new List<Func<SimulatedProfile, bool>>();
        foreach (Match m in Clause().Matches(text))
        {
            var (op, field, argument) = (m.Groups["op"].Value, m.Groups["field"].Value, m.Groups["arg"].Value.Trim());
            Func<SimulatedProfile, string?>? read = field switch
            {
                "email" => p => p.Email,
                "phone_number" => p => p.PhoneNumber,
                "external_id" => p => p.ExternalId,
                "id" => p => p.Id,
                "updated" => p => p.Updated.ToString("O"),
                _ => null,
            };
            if (read is null) { error = $"'{field}' is not a valid field for the resource 'profile'."; return null; }
            switch (op)
            {
                case "equals":
                    var value = argument.Trim('"');
                    predicates.Add(p => string.Equals(read(p), value, field == "email" ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal));
                    break;
                case "any":
                    var values = argument.Trim('[', ']').Split(',').Select(v => v.Trim().Trim('"')).ToHashSet(StringComparer.OrdinalIgnoreCase);
                    predicates.Add(p => read(p) is { } v && values.Contains(v));
                    break;
                case "greater-than" when field == "updated" && DateTimeOffset.TryParse(argument.Trim('"'), out var since):
                    predicates.Add(p => p.Updated > since);
                    break;
                default:
                    error = $"Unsupported filter operation {op} on {field}.";
                    return null;
            }
        }
        if (predicates.Count == 0) { error = $"Invalid filter: {filter}"; return null; }
        return p => predicates.All(predicate => predicate(p));
    }

    [GeneratedRegex(@"(?<op>equals|any|greater-than)\((?<field>[a-z_]+),(?<arg>(\[[^\]]*\]|""[^""]*""|[^)]*))\)")]
    private static partial Regex Clause();
}
