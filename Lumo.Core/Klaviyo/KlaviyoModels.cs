namespace Lumo.Core.Klaviyo;

/// <summary>The connected Klaviyo account (GET /api/accounts).</summary>
public sealed record KlaviyoAccount(string Id, string? OrganizationName);

/// <summary>A Klaviyo profile as far as Lumo reads it; property values are kept as JSON text.</summary>
public sealed record KlaviyoProfile(string Id, string? Email, string? PhoneNumber, IReadOnlyDictionary<string, object?> Properties, DateTimeOffset? Created = null,
    DateTimeOffset? Updated = null, System.Text.Json.Nodes.JsonObject? Attributes = null)
{
    /// <summary>
    /// A field as Sync Data names it — a standard attribute (<c>first_name</c>, <c>location.city</c>) or a custom
    /// property (<c>properties.Loyalty tier</c>) — as JSON, or null when the profile does not have it.
    /// </summary>
    public System.Text.Json.Nodes.JsonNode? Field(string name)
    {
        if (name.StartsWith("properties.", StringComparison.Ordinal))
            return Properties.TryGetValue(name["properties.".Length..], out var json) && json is string text ? System.Text.Json.Nodes.JsonNode.Parse(text) : null;
        System.Text.Json.Nodes.JsonNode? node = Attributes;
        foreach (var part in name.Split('.')) node = node is System.Text.Json.Nodes.JsonObject o && o.TryGetPropertyValue(part, out var child) ? child : null;
        return node;
    }

    /// <summary>A custom property's value when it is a string, else null.</summary>
    public string? TextProperty(string name) =>
        Properties.TryGetValue(name, out var json) && json is string text && System.Text.Json.Nodes.JsonNode.Parse(text) is System.Text.Json.Nodes.JsonValue value
        && value.TryGetValue<string>(out var s) ? s : null;
}

public enum KlaviyoGroupKind { List, Segment }

/// <summary>A Klaviyo list or segment, by id.</summary>
public sealed record KlaviyoGroup(KlaviyoGroupKind Kind, string Id);

/// <summary>One page of a Klaviyo collection and the link to the next, if any.</summary>
public sealed record KlaviyoPage<T>(IReadOnlyList<T> Items, string? Next);

/// <summary>A sign-up form; <see cref="Status"/> is "live" for published ones.</summary>
public sealed record KlaviyoForm(string Id, string Name, string Status);

/// <summary>
/// A profile upsert through POST /api/profile-import: identified by id, email or phone, writing only the given
/// custom properties (Klaviyo merges properties; ones we do not name stay untouched).
/// </summary>
public sealed record KlaviyoProfileUpsert(string? Id, string? Email, string? PhoneNumber, IReadOnlyDictionary<string, object?> Properties);

/// <summary>A bulk profile import job as Klaviyo reports it (status: queued, processing, complete, cancelled).</summary>
public sealed record KlaviyoImportJob(string Id, string Status, int Total, int Completed, int Failed)
{
    public bool IsFinished => Status is "complete" or "cancelled";
}
