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

/// <summary>A bulk profile import job as Klaviyo reports it (status: queued, processing, complete, cancelled).</summary>
public sealed record KlaviyoImportJob(string Id, string Status, int Total, int Completed, int Failed)
{
    public bool IsFinished => Status is "complete" or "cancelled";
}
