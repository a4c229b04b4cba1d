namespace Lumo.Core.Friends;

public enum FollowStatus { Unknown, Friend, Blocked }

public enum Consent { Unknown, Granted, Withdrawn }

/// <summary>
/// A LINE user as one LINE Official Account knows them: friendship, consent (granted on follow, withdrawn on
/// block) and when and where it last changed, optional contact details, and the Klaviyo profile it is linked to.
/// </summary>
public sealed record LineFriend
{
    public required string WorkspaceId { get; init; }
    public required string AccountId { get; init; }
    public required string UserId { get; init; }
    public string? DisplayName { get; init; }
    public FollowStatus FollowStatus { get; init; }
    public Consent Consent { get; init; }
    public DateTimeOffset? ConsentUpdatedAt { get; init; }
    public string? ConsentSource { get; init; }
    /// <summary>Time of the newest LINE event applied; older events (LINE may deliver out of order) do not overwrite state.</summary>
    public DateTimeOffset? LastEventAt { get; init; }
    public string? Email { get; init; }
    public string? PhoneNumber { get; init; }
    public string? KlaviyoProfileId { get; init; }
    public DateTimeOffset? LinkedAt { get; init; }
    public string? LinkedHow { get; init; }
    /// <summary>When the LINE properties last reached the linked Klaviyo profile, and the last error if they did not.</summary>
    public DateTimeOffset? PropertiesSyncedAt { get; init; }
    public string? PropertiesSyncError { get; init; }
    /// <summary>Klaviyo profile fields pulled by the sync rules (Klaviyo → Lumo), by field name, as text.</summary>
    public IReadOnlyDictionary<string, string> KlaviyoFields { get; init; } = new Dictionary<string, string>();
    /// <summary>The Klaviyo profile's <c>updated</c> time the pulled fields come from: older data never overwrites them.</summary>
    public DateTimeOffset? KlaviyoFieldsUpdatedAt { get; init; }
    public string? ETag { get; init; }

    public bool IsLinked => KlaviyoProfileId is not null;
}
