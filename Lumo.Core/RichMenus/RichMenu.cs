using System.Text.Json.Nodes;

namespace Lumo.Core.RichMenus;

/// <summary>
/// A rich menu of one LINE account, created on LINE with its image. Assigned to a Lumo Segment, it is linked to the
/// segment's members by the rich menu sync; a friend in several segments gets the menu with the lowest
/// <see cref="Priority"/> number. The default menu is what everyone else sees.
/// </summary>
public sealed record RichMenu
{
    public required string WorkspaceId { get; init; }
    public required string AccountId { get; init; }
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string ChatBarText { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    /// <summary>The areas as LINE takes them: <c>[{"bounds":{x,y,width,height},"action":{…}}]</c>.</summary>
    public required JsonArray Areas { get; init; }
    public required string LineRichMenuId { get; init; }
    public string? SegmentId { get; init; }
    /// <summary>1 wins over 2: the menu a friend in several assigned segments gets.</summary>
    public int Priority { get; init; } = 100;
    public bool IsDefault { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public string? ETag { get; init; }
}

/// <summary>What one rich menu sync did for an account.</summary>
public sealed record RichMenuSyncRun(DateTimeOffset StartedAt, DateTimeOffset FinishedAt, int Friends, int Linked, int Unlinked, int Unchanged, int Requests,
    string? Error = null);
