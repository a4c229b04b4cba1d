namespace Lumo.Core.Workspaces;

/// <summary>A merchant's workspace: one Klaviyo account and N LINE Official Accounts.</summary>
public sealed record Workspace
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public ConnectionState Klaviyo { get; init; } = ConnectionState.Unverified;
    /// <summary>Klaviyo's own id of the connected account, learnt when the API key is verified.</summary>
    public string? KlaviyoAccountId { get; init; }
    /// <summary>How Lumo reaches Klaviyo: <see cref="KlaviyoConnections"/>.</summary>
    public string KlaviyoConnectedWith { get; init; } = KlaviyoConnections.PrivateApiKey;
    /// <summary>When the current Klaviyo credentials were given (the workspace's creation for its first key).</summary>
    public DateTimeOffset? KlaviyoConnectedAt { get; init; }
    /// <summary>Where customers' national phone numbers are read (ISO 3166-1 alpha-2; JP when unset).</summary>
    public string? DefaultRegion { get; init; }
    /// <summary>
    /// The ordinal the next LINE account gets. Ordinals are never reused: merchants' segments are built on
    /// "LINE User ID 2", and a new account must not inherit the data of a removed one.
    /// </summary>
    public int NextAccountOrdinal { get; init; } = 1;
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public string? ETag { get; init; }
}

/// <summary>How a workspace is connected to Klaviyo.</summary>
public static class KlaviyoConnections
{
    public const string PrivateApiKey = "private-api-key";
    /// <summary>The Klaviyo OAuth app, approved by a Klaviyo administrator.</summary>
    public const string OAuth = "oauth";
}

/// <summary>A LINE Official Account (Messaging API channel) connected to a workspace.</summary>
public sealed record LineAccount
{
    public required string Id { get; init; }
    public required string WorkspaceId { get; init; }
    public required string Name { get; init; }
    /// <summary>1 for the first connected account, N for the Nth; decides the property-name suffix.</summary>
    public required int Ordinal { get; init; }
    public required string ChannelId { get; init; }
    public ConnectionState Line { get; init; } = ConnectionState.Unverified;
    public string? BotUserId { get; init; }
    public string? BasicId { get; init; }
    public string? BotDisplayName { get; init; }
    /// <summary>Whether links and images of this account's messages are tracked (opens and clicks); on unless switched off.</summary>
    public bool TrackOpensAndClicks { get; init; } = true;
    /// <summary>Sync rule: whether <c>LINE Display Name</c> is written to Klaviyo (the one optional Lumo → Klaviyo field).</summary>
    public bool SyncDisplayName { get; init; } = true;
    /// <summary>Sync rule: the Klaviyo profile fields pulled onto linked friends (<c>first_name</c>, <c>properties.Loyalty tier</c>); none by default.</summary>
    public IReadOnlyList<string> PulledFields { get; init; } = [];
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public string? ETag { get; init; }

    public LinePropertyNames PropertyNames => LinePropertyNames.ForOrdinal(Ordinal);
}

public enum ConnectionStatus
{
    Unverified,
    Verified,
    Failed,
    /// <summary>
    /// A credential that worked was refused (401/403) during work: that workspace's Klaviyo work is paused, nothing is
    /// parked, and it resumes once the credential is replaced or verified again.
    /// </summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("needs-reconnect")]
    NeedsReconnect,
}

/// <summary>What the last credential check of a vendor connection found.</summary>
public sealed record ConnectionState(ConnectionStatus Status, DateTimeOffset? CheckedAt = null, string? Detail = null)
{
    public static readonly ConnectionState Unverified = new(ConnectionStatus.Unverified);
}
