using Lumo.Core.Klaviyo;

namespace Lumo.Core.IdLinkage;

/// <summary>The Klaviyo profile that signals point to, or why none does.</summary>
public sealed record ProfileMatch(string? ProfileId, string? Problem, DateTimeOffset? ProfileCreated = null);

/// <summary>
/// Finds the Klaviyo profile for linking signals (normalised email and/or E.164 phone). With both, both must
/// belong to the same profile (DESIGN §4); a signal that matches several profiles matches none.
/// </summary>
public sealed class KlaviyoProfileResolver(KlaviyoClient klaviyo)
{
    public async Task<ProfileMatch> ResolveAsync(string workspaceId, string? email, string? phone, CancellationToken cancellationToken)
    {
        if (email is null && phone is null) return new ProfileMatch(null, "No email address or phone number was given.");
        var byEmail = email is null ? null : await FindAsync(workspaceId, "email", email, cancellationToken);
        var byPhone = phone is null ? null : await FindAsync(workspaceId, "phone_number", phone, cancellationToken);
        return (email, phone, byEmail, byPhone) switch
        {
            (not null, _, null, _) => new ProfileMatch(null, "No Klaviyo profile has this email address."),
            (_, not null, _, null) => new ProfileMatch(null, "No Klaviyo profile has this phone number."),
            (not null, not null, _, _) when byEmail!.Id != byPhone!.Id => new ProfileMatch(null, "The email address and the phone number belong to different Klaviyo profiles."),
            _ => new ProfileMatch((byEmail ?? byPhone)!.Id, null, (byEmail ?? byPhone)!.Created),
        };
    }

    private async Task<KlaviyoProfile?> FindAsync(string workspaceId, string field, string value, CancellationToken cancellationToken)
    {
        if (value.Contains('"') || value.Contains('\\')) return null; // cannot be quoted in a Klaviyo filter; normalised values never hold them
        var matches = await klaviyo.GetProfilesAsync(workspaceId, $"equals({field},\"{value}\")", cancellationToken).Take(2).ToListAsync(cancellationToken);
        return matches.Count == 1 ? matches[0] : null;
    }
}
