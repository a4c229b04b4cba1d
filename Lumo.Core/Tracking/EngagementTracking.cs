using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Tracking;

/// <summary>Where to send the browser or phone, or null when the URL is not one of ours (404).</summary>
public sealed record TrackedDestination(string? Url);

/// <summary>
/// Follows tracking URLs: checks the mac, finds the link or image in the send's own record and answers its
/// destination at once. Only when a person (not a crawler or scanner, <see cref="AutomatedFetches"/>) did it, and
/// as an event only for an ID-linked recipient (otherwise it counts on the send alone): a click records <c>Clicked LINE Message</c> once per send, link and
/// <see cref="TrackingOptions.ClickWindow"/>; an image loaded at least <see cref="TrackingOptions.OpenGrace"/> after
/// LINE took the push records <c>Opened LINE Message</c> once per send, and a click implies an open when none was
/// recorded. Which ones were recorded is marked on the send row with a conditional write first, so concurrent fetches
/// record each event exactly once; events go through the outbox, so the answer never waits for Klaviyo.
/// </summary>
public sealed class EngagementTracking(TrackedLinks links, LineSendStore sends, WorkspaceStore workspaces, KlaviyoEventRecorder events, IOptions<TrackingOptions> options,
    TimeProvider clock)
{
    public async Task<TrackedDestination> FollowAsync(TrackedLink link, string mac, string method, string? userAgent, CancellationToken cancellationToken)
    {
        if (!await links.IsAuthenticAsync(link, mac, cancellationToken)) return new(null);
        var send = await sends.GetIfExistsAsync(link.WorkspaceId, link.SendId, cancellationToken);
        var targets = link.Kind == TrackedKind.Link ? send?.Links : send?.Images;
        if (send is null || targets is null || link.Index < 1 || link.Index > targets.Count) return new(null); // past retention, or erased
        if (!AutomatedFetches.IsAutomated(method, userAgent)) await RecordAsync(send, link, targets[link.Index - 1], cancellationToken);
        return new(targets[link.Index - 1]);
    }

    private async Task RecordAsync(LineSend send, TrackedLink link, string destination, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var window = now.ToUnixTimeSeconds() / (long)options.Value.ClickWindow.TotalSeconds;
            var click = link.Kind == TrackedKind.Link && send.ClickWindows.GetValueOrDefault(link.Index, -1) != window;
            // An image fetched before the send was pushed, or right after, is not a person reading it.
            var open = send.OpenedAt is null && (click || (send.Status == SendStatus.Sent && now - send.UpdatedAt >= options.Value.OpenGrace));
            if (!click && !open) return;
            var marked = send with
            {
                OpenedAt = open ? now : send.OpenedAt,
                ClickWindows = click ? new Dictionary<int, long>(send.ClickWindows) { [link.Index] = window } : send.ClickWindows,
            };
            if (await sends.TryMarkEngagementAsync(marked, cancellationToken))
            {
                if (send.ProfileId is null) return; // counted on the send (the send log shows it), but no event: not ID-linked
                var account = await workspaces.GetAccountCachedAsync(send.WorkspaceId, send.AccountId, cancellationToken);
                var properties = new JsonObject
                {
                    ["Send ID"] = send.Id, ["Source"] = send.Source, ["Message"] = send.MessageRef, ["LINE Official Account"] = account?.BasicId ?? account?.ChannelId,
                };
                if (open) await Record(send, KlaviyoMetrics.OpenedLineMessage, $"line-open:{send.Id}", now, (JsonObject)properties.DeepClone(), cancellationToken);
                if (click)
                {
                    properties["Link"] = link.Index;
                    properties["Destination"] = destination;
                    await Record(send, KlaviyoMetrics.ClickedLineMessage, $"line-click:{send.Id}:{link.Index}:{window}", now, properties, cancellationToken);
                }
                return;
            }
            // Another fetch marked the row first: see what it recorded.
            if (await sends.GetIfExistsAsync(send.WorkspaceId, send.Id, cancellationToken) is not { } current) return;
            send = current;
        }
    }

    private Task Record(LineSend send, string metric, string uniqueId, DateTimeOffset at, JsonObject properties, CancellationToken cancellationToken) =>
        events.RecordAsync(new KlaviyoEvent(send.WorkspaceId, send.ProfileId!, metric, uniqueId, at, properties), cancellationToken);
}
