using Lumo.Core.FlowSends;
using Lumo.Core.IdLinkage;
using Microsoft.Extensions.Options;

namespace Lumo.Core.Tracking;

/// <summary>
/// Makes a send's links and images trackable before it is recorded: each http(s) link and each image URL becomes a
/// tracking URL of ours, and the send keeps where each one leads (links with UTM parameters merged:
/// <c>utm_source=line</c>, <c>utm_medium</c> = the send's source, <c>utm_campaign</c> = the message's name,
/// <c>utm_content=link-N</c>). Deterministic: a retry of the same request makes the same URLs.
/// </summary>
public sealed class SendTracking(TrackedLinks trackedLinks, IOptions<IdLinkageOptions> options, IOptions<TrackingOptions> tracking)
{
    public async Task<LineSend> TrackAsync(LineSend send, string campaign, IReadOnlyDictionary<string, string>? utmOverrides, CancellationToken cancellationToken)
    {
        var pathFor = await trackedLinks.PathMakerAsync(cancellationToken);
        string UrlFor(TrackedKind kind, int position) => options.Value.Url(pathFor(new TrackedLink(send.WorkspaceId, send.Id, position, kind))).AbsoluteUri;
        var (messages, destinations) = TrackedLinks.Rewrite(send.Messages, i => UrlFor(TrackedKind.Link, i));
        // LINE takes only https image URLs: behind a plain-http address (a local run) images are left as they are.
        var images = new List<string>();
        if (options.Value.PublicBaseUrl!.Scheme == Uri.UriSchemeHttps)
            (messages, images) = TrackedLinks.RewriteImages(messages, i => UrlFor(TrackedKind.Image, i));
        if (destinations.Count == 0 && images.Count == 0) return send;
        return send with
        {
            Messages = messages,
            Links = destinations.Select((destination, i) => Utm.Merge(destination, UtmFor(send, campaign, i + 1, utmOverrides))).ToList(),
            Images = images,
        };
    }

    // The defaults, with a message's own overrides in their place.
    private IEnumerable<KeyValuePair<string, string>> UtmFor(LineSend send, string campaign, int position, IReadOnlyDictionary<string, string>? overrides)
    {
        var parameters = new Dictionary<string, string>
        {
            ["utm_source"] = tracking.Value.UtmSource, ["utm_medium"] = send.Source, ["utm_campaign"] = campaign, ["utm_content"] = $"link-{position}",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>()) parameters[key] = value;
        return parameters;
    }
}
