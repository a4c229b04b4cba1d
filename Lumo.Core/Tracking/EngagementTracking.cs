using System.Text.Json.Nodes;
using Lumo.Core.FlowSends;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Tracking;

/// <summary>
/// Where to send the browser or phone (null: not one of our URLs, 404), and whether the answer may be kept by the
/// phone (only once the open is recorded: until then each load must reach us).
/// </summary>
public sealed record TrackedDestination(string? Url, bool Cacheable = false);

/// <summary>
/// Follows tracking URLs: checks the mac, finds the link or image in the send's own record and answers its
/// destination at once. Only when a person (not a crawler or scanner, <see cref="AutomatedFetches"/>) did it, and
/// as an event only for an ID-linked recipient (otherwise it counts on the send alone): a click records
/// <c>Clicked LINE Message</c> once per send, link and <see cref="TrackingOptions.ClickWindow"/>; an image loaded at
/// least <see cref="TrackingOptions.OpenGrace"/> after LINE took the push records <c>Opened LINE Message</c> once per
/// send, and a click implies an open when none was recorded. What a fetch records is first marked on the send row
/// with a conditional write, and only the fetch whose mark succeeds writes the events to the outbox, so concurrent
/// fetches and a reload hours later record nothing twice; a failure there is logged and never costs the redirect.
/// </summary>
public sealed class EngagementTracking(TrackedLinks links, LineSendStore sends, WorkspaceStore workspaces, KlaviyoEventRecorder events, IOptions<TrackingOptions> options,
    TimeProvider clock, ILogger<EngagementTracking> logger)
{
    public async Task<TrackedDestination> FollowAsync(TrackedLink link, string mac, string method, string? userAgent, CancellationToken cancellationToken)
    {
        if (!await links.IsAuthenticAsync(link, mac, cancellationToken)) return new(null);
        var send = await sends.GetIfExistsAsync(link.WorkspaceId, link.SendId, cancellationToken);
        var targets = link.Kind == TrackedKind.Link ? send?.Links : send?.Images;
        if (send is null || targets is null || link.Index < 1 || link.Index > targets.Count) return new(null); // past retention, or erased
        var opened = send.OpenedAt is not null;
        if (!AutomatedFetches.IsAutomated(method, userAgent))
        {
            try
            {
                opened = await RecordAsync(send, link, targets[link.Index - 1]);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Recording engagement with send {SendId} failed; the redirect goes ahead", send.Id);
            }
        }
        return new(targets[link.Index - 1], Cacheable: opened);
    }

    // Records what this fetch newly means; true when the send counts as opened afterwards. Not tied to the request:
    // a phone that stops loading an image does not leave a half-recorded open.
    private async Task<bool> RecordAsync(LineSend send, TrackedLink link, string destination)
    {
        var now = clock.GetUtcNow();
        var window = now.ToUnixTimeSeconds() / (long)options.Value.ClickWindow.TotalSeconds;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var click = link.Kind == TrackedKind.Link && send.ClickWindows.GetValueOrDefault(link.Index, -1) != window;
            // An image fetched before the send was pushed, or right after, is not a person reading it.
            var open = send.OpenedAt is null && (click || (send.Status == SendStatus.Sent && now - send.UpdatedAt >= options.Value.OpenGrace));
            if (!click && !open) return send.OpenedAt is not null;
            var marked = send with
            {
                OpenedAt = open ? now : send.OpenedAt,
                ClickWindows = click ? new Dictionary<int, long>(send.ClickWindows) { [link.Index] = window } : send.ClickWindows,
            };
            // The fetch that marks the row records the events: concurrent fetches of one link never both do.
            if (await sends.TryMarkEngagementAsync(marked, CancellationToken.None))
            {
                if (send.ProfileId is not null) await RecordEventsAsync(send, link, destination, click, open, now, window); // not ID-linked: counted on the send only
                return marked.OpenedAt is not null;
            }
            // Another fetch marked the row first: see what is left to record.
            if (await sends.GetIfExistsAsync(send.WorkspaceId, send.Id, CancellationToken.None) is not { } current) return false;
            send = current;
        }
        return send.OpenedAt is not null;
    }

    private async Task RecordEventsAsync(LineSend send, TrackedLink link, string destination, bool click, bool open, DateTimeOffset now, long window)
    {
        var account = await workspaces.GetAccountCachedAsync(send.WorkspaceId, send.AccountId, CancellationToken.None);
        var properties = new JsonObject
        {
            ["Send ID"] = send.Id, ["Source"] = send.Source, ["Message"] = send.MessageRef, ["LINE Official Account"] = account?.BasicId ?? account?.ChannelId,
        };
        if (open) await Record(send, KlaviyoMetrics.OpenedLineMessage, $"line-open:{send.Id}", now, (JsonObject)properties.DeepClone(), CancellationToken.None);
        if (!click) return;
        properties["Link"] = link.Index;
        properties["Destination"] = destination;
        await Record(send, KlaviyoMetrics.ClickedLineMessage, $"line-click:{send.Id}:{link.Index}:{window}", now, properties, CancellationToken.None);
    }

    private Task Record(LineSend send, string metric, string uniqueId, DateTimeOffset at, JsonObject properties, CancellationToken cancellationToken) =>
        events.RecordAsync(new KlaviyoEvent(send.WorkspaceId, send.ProfileId!, metric, uniqueId, at, properties), cancellationToken);
}
