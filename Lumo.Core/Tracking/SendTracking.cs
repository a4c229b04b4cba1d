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
        // Tracking URLs are signed, which takes the key: count first, sign that many, then rewrite. (A text whose URLs
        // would make it too long keeps its links, so the second pass's links are the ones that count.)
        var (_, found) = TrackedLinks.Rewrite(send.Messages, _ => "");
        var links = await UrlsAsync(send, TrackedKind.Link, found.Count, cancellationToken);
        var (messages, destinations) = TrackedLinks.Rewrite(send.Messages, i => links[i - 1]);
        // LINE takes only https image URLs: behind a plain-http address (a local run) images are left as they are.
        var images = new List<string>();
        if (options.Value.PublicBaseUrl!.Scheme == Uri.UriSchemeHttps)
        {
            (_, images) = TrackedLinks.RewriteImages(messages, _ => "");
            var imageUrls = await UrlsAsync(send, TrackedKind.Image, images.Count, cancellationToken);
            (messages, images) = TrackedLinks.RewriteImages(messages, i => imageUrls[i - 1]);
        }
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

    private async Task<List<string>> UrlsAsync(LineSend send, TrackedKind kind, int count, CancellationToken cancellationToken)
    {
        var urls = new List<string>();
        for (var i = 1; i <= count; i++)
            urls.Add(options.Value.Url(await trackedLinks.PathForAsync(new TrackedLink(send.WorkspaceId, send.Id, i, kind), cancellationToken)).AbsoluteUri);
        return urls;
    }
}
