using Lumo.Core.Workspaces;

namespace Lumo.Functions.Admin;

/// <summary>What the admin API shows of a workspace. Credentials are never part of it.</summary>
/// <param name="DefaultRegion">Where customers' national phone numbers are read (JP when not set).</param>
public sealed record WorkspaceView(string Id, string Name, string DefaultRegion, KlaviyoConnectionView Klaviyo, IReadOnlyList<LineAccountView> Accounts,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static WorkspaceView From(Workspace w, IReadOnlyList<LineAccount> accounts) => new(
        w.Id, w.Name, w.DefaultRegion ?? Core.Friends.ContactDetails.FallbackRegion, new KlaviyoConnectionView(ConnectionView.From(w.Klaviyo), w.KlaviyoAccountId),
        accounts.Select(LineAccountView.From).ToList(), w.CreatedAt, w.UpdatedAt);
}

public sealed record KlaviyoConnectionView(ConnectionView Connection, string? AccountId);

public sealed record ConnectionView(ConnectionStatus Status, DateTimeOffset? CheckedAt, string? Detail)
{
    public static ConnectionView From(ConnectionState s) => new(s.Status, s.CheckedAt, s.Detail);
}

/// <summary>A LINE account with the exact Klaviyo property names its data is written under.</summary>
/// <param name="WebhookPath">Append to the app's base URL and set as the Webhook URL in the LINE Developers Console.</param>
public sealed record LineAccountView(string Id, string Name, int Ordinal, string ChannelId, ConnectionView Connection,
    string? BotUserId, string? BasicId, string? BotDisplayName, LinePropertyNames PropertyNames, string WebhookPath, bool TrackOpensAndClicks,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static LineAccountView From(LineAccount a) => new(a.Id, a.Name, a.Ordinal, a.ChannelId, ConnectionView.From(a.Line),
        a.BotUserId, a.BasicId, a.BotDisplayName, a.PropertyNames, $"/api/line/webhook/{a.WorkspaceId}/{a.Id}", a.TrackOpensAndClicks, a.CreatedAt, a.UpdatedAt);
}
