namespace Lumo.Core.Klaviyo;

/// <summary>The connected Klaviyo account (GET /api/accounts).</summary>
public sealed record KlaviyoAccount(string Id, string? OrganizationName);

/// <summary>A Klaviyo profile as far as Lumo reads it.</summary>
public sealed record KlaviyoProfile(string Id, string? Email, string? PhoneNumber, IReadOnlyDictionary<string, object?> Properties);

/// <summary>
/// A profile upsert through POST /api/profile-import: identified by id, email or phone, writing only the given
/// custom properties (Klaviyo merges properties; ones we do not name stay untouched).
/// </summary>
public sealed record KlaviyoProfileUpsert(string? Id, string? Email, string? PhoneNumber, IReadOnlyDictionary<string, object?> Properties);
