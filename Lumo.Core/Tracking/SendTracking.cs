using Lumo.Core.FlowSends;
using Lumo.Core.IdLinkage;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Tracking;

/// <summary>
/// Makes a send's links trackable before it is recorded: each http(s) link becomes its tracking URL, and the send
/// keeps where each one leads, with UTM parameters merged (<c>utm_source=line</c>, <c>utm_medium</c> = the send's
/// source, <c>utm_campaign</c> = the message's name, <c>utm_content=link-N</c>). Deterministic: a retry of the same
/// request makes the same URLs.
/// </summary>
public sealed class SendTracking(TrackedLinks links, IOptions<IdLinkageOptions> options)
{
    public async Task<LineSend> TrackLinksAsync(LineSend send, string campaign, CancellationToken cancellationToken)
    {
        // Tracking URLs are signed, which takes the key: count the links first, sign that many, then rewrite. (The
        // second pass may keep a text whose URLs would make it too long, so its links are the ones that count.)
        var (_, found) = TrackedLinks.Rewrite(send.Messages, _ => "");
        if (found.Count == 0) return send;
        var urls = new List<string>();
        for (var i = 1; i <= found.Count; i++)
            urls.Add(options.Value.Url(await links.PathForAsync(new TrackedLink(send.WorkspaceId, send.Id, i), cancellationToken)).AbsoluteUri);
        var (messages, destinations) = TrackedLinks.Rewrite(send.Messages, i => urls[i - 1]);
        return send with
        {
            Messages = messages,
            Links = destinations.Select((destination, i) => Utm.Merge(destination,
            [
                new("utm_source", "line"), new("utm_medium", send.Source), new("utm_campaign", campaign), new("utm_content", $"link-{i + 1}"),
            ])).ToList(),
        };
    }
}
