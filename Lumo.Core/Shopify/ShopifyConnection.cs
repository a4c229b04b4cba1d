namespace Lumo.Core.Shopify;

/// <summary>
/// A workspace's Shopify store: which one, since when, whether the app is still installed, the store currency, and
/// how far product sync has come (written only by the install and, under its lease, the sync): a first full sync resumes from <see cref="FullSyncCursor"/>; afterwards incremental
/// passes read products changed since <see cref="SyncedUpTo"/>.
/// </summary>
public sealed record ShopifyConnection
{
    public required string WorkspaceId { get; init; }
    public required ShopDomain Shop { get; init; }
    public required string Scope { get; init; }
    public required DateTimeOffset InstalledAt { get; init; }
    public bool Installed { get; init; } = true;
    public DateTimeOffset? UninstalledAt { get; init; }
    public string? Currency { get; init; }
    public bool FullSyncDone { get; init; }
    public string? FullSyncCursor { get; init; }
    /// <summary>When the full sync started: the incremental pass after it reads from there, so changes made during it are not missed.</summary>
    public DateTimeOffset? FullSyncStartedAt { get; init; }
    /// <summary>The start of the last finished incremental pass (the first comes right after the full sync): the next reads from here.</summary>
    public DateTimeOffset? SyncedUpTo { get; init; }
    public int Products { get; init; }
    public string? LastError { get; init; }
    public Azure.ETag ETag { get; init; }
}
