namespace Lumo.Core.Tracking;

/// <summary>UTM parameters added to a destination for revenue attribution.</summary>
public static class Utm
{
    /// <summary>The parameters a message may set (or override) on its links.</summary>
    public static readonly IReadOnlySet<string> Names = new HashSet<string> { "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term" };

    /// <summary>
    /// Adds the parameters the destination does not have yet, keeping its own query exactly as it was written (its
    /// encoding and any <c>utm_*</c> it already carries win) and its fragment after the query.
    /// </summary>
    public static string Merge(string destination, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var hash = destination.IndexOf('#');
        var (main, fragment) = hash < 0 ? (destination, "") : (destination[..hash], destination[hash..]);
        var query = main.IndexOf('?') is var q and >= 0 ? main[(q + 1)..] : null;
        var present = (query ?? "").Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => Uri.UnescapeDataString(pair.Split('=', 2)[0].Replace('+', ' '))).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var added = parameters.Where(p => !present.Contains(p.Key)).Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}").ToList();
        if (added.Count == 0) return destination;
        var separator = query is null ? "?" : query.Length == 0 || query.EndsWith('&') ? "" : "&";
        return main + separator + string.Join("&", added) + fragment;
    }
}
