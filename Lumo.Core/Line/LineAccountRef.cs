namespace Lumo.Core.Line;

/// <summary>Names the LINE account whose channel access token signs a request.</summary>
public sealed record LineAccountRef(string WorkspaceId, string AccountId)
{
    internal static readonly HttpRequestOptionsKey<LineAccountRef> OptionKey = new("Lumo.LineAccount");
}
