using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Tracking;

/// <summary>A click on a tracking URL: where to send the browser, or null when the URL is not one of ours (404).</summary>
public sealed record ClickOutcome(string? Destination);

/// <summary>
/// Follows a tracking URL: checks its mac, finds the link in the send's own record and answers its destination at
/// once; a click by a person (not a preview crawler or scanner, <see cref="AutomatedFetches"/>) on a send to an
/// ID-linked recipient records <c>Clicked LINE Message</c> through the event outbox, once per send, link and
/// <see cref="ClickWindow"/> (its unique id names them), so the redirect never waits for Klaviyo.
/// </summary>
public sealed class ClickTracking(TrackedLinks links, LineSendStore sends, WorkspaceStore workspaces, KlaviyoEventRecorder events, TimeProvider clock,
    ILogger<ClickTracking> logger)
{
    public static readonly TimeSpan ClickWindow = TimeSpan.FromHours(1);

    public async Task<ClickOutcome> FollowAsync(TrackedLink link, string mac, string method, string? userAgent, CancellationToken cancellationToken)
    {
        if (!await links.IsAuthenticAsync(link, mac, cancellationToken)) return new(null);
        var send = await sends.GetIfExistsAsync(link.WorkspaceId, link.SendId, cancellationToken);
        if (send is null || link.Index < 1 || link.Index > send.Links.Count) return new(null); // past retention, or erased
        var destination = send.Links[link.Index - 1];
        if (send.ProfileId is not null && !AutomatedFetches.IsAutomated(method, userAgent))
        {
            var account = await workspaces.GetAccountCachedAsync(send.WorkspaceId, send.AccountId, cancellationToken);
            var now = clock.GetUtcNow();
            var window = now.ToUnixTimeSeconds() / (long)ClickWindow.TotalSeconds;
            await events.RecordAsync(new KlaviyoEvent(send.WorkspaceId, send.ProfileId, KlaviyoMetrics.ClickedLineMessage, $"line-click:{send.Id}:{link.Index}:{window}", now,
                new JsonObject
                {
                    ["Link"] = link.Index, ["Destination"] = destination, ["Send ID"] = send.Id, ["Source"] = send.Source, ["Message"] = send.MessageRef,
                    ["LINE Official Account"] = account?.BasicId ?? account?.ChannelId,
                }), cancellationToken);
        }
        else logger.LogDebug("Click on send {SendId} link {Index} not recorded (automated fetch or unlinked recipient)", link.SendId, link.Index);
        return new(destination);
    }
}
