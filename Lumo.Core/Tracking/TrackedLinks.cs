using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lumo.Core.AutoSendMessages;
using Lumo.Core.Friends;
using Microsoft.AspNetCore.WebUtilities;

namespace Lumo.Core.Tracking;

/// <summary>What a tracking URL stands for: a link a person follows (<c>t</c>) or an image the phone loads (<c>o</c>).</summary>
public enum TrackedKind { Link, Image }

/// <summary>One link or image of a send as its tracking URL names it.</summary>
public sealed record TrackedLink(string WorkspaceId, string SendId, int Index, TrackedKind Kind = TrackedKind.Link)
{
    public string PathSegment => Kind == TrackedKind.Link ? "t" : "o";
}

/// <summary>
/// Tracking URLs for the links of a send: <c>{base}/api/t/{workspace}/{send}/{index}/{mac}</c>, where the mac is an
/// HMAC of the other parts under a key derived from the deployment key. The URL names the link but carries no
/// destination: the destination comes only from the send's own record, so the endpoint can never be an open
/// redirect, and a tampered URL fails the mac check.
/// </summary>
public sealed partial class TrackedLinks(ContactIndexKey deploymentKey)
{
    private const string Purpose = "tracking-link";

    /// <summary>Makes tracking paths with the key loaded once, so that a whole message is rewritten in one pass.</summary>
    public async ValueTask<Func<TrackedLink, string>> PathMakerAsync(CancellationToken cancellationToken)
    {
        var key = await deploymentKey.DerivedKeyAsync(Purpose, cancellationToken);
        return link => $"/api/{link.PathSegment}/{link.WorkspaceId}/{link.SendId}/{link.Index}/{Mac(key, link)}";
    }

    /// <summary>Whether <paramref name="mac"/> is the link's own (compared in constant time).</summary>
    public async ValueTask<bool> IsAuthenticAsync(TrackedLink link, string mac, CancellationToken cancellationToken) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(await deploymentKey.DerivedKeyAsync(Purpose, cancellationToken), link)), Encoding.ASCII.GetBytes(mac));

    private static string Mac(byte[] key, TrackedLink link) =>
        WebEncoders.Base64UrlEncode(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{link.PathSegment}\n{link.WorkspaceId}\n{link.SendId}\n{link.Index}")), 0, 12);

    /// <summary>At most this many links and images of one send are tracked (the tracking route takes positions 1–999; the record stays small).</summary>
    public const int MaxTracked = 100;

    /// <summary>
    /// Replaces every http(s) link in the messages — URLs in texts, and the <c>uri</c>/<c>linkUri</c> of actions in
    /// templates, flex messages and image maps — with <paramref name="trackingUrl"/> for its position; returns the
    /// rewritten messages and the destinations in that order, in ASCII (an international host as punycode, other
    /// characters escaped) so that they fit a Location header. Left as they are: a text that would grow past LINE's
    /// 5,000 characters, a text with LINE emojis (their positions are counted in the text), anything that does not
    /// parse as an absolute http(s) URL, and links beyond <see cref="MaxTracked"/>.
    /// </summary>
    public static (JsonArray Messages, List<string> Destinations) Rewrite(JsonArray messages, Func<int, string> trackingUrl)
    {
        var rewritten = (JsonArray)messages.DeepClone();
        var destinations = new List<string>();
        foreach (var message in rewritten.OfType<JsonObject>())
        {
            // Only a text message's own text is auto-linked by LINE; texts inside flex messages are not links.
            if (message["type"]?.GetValue<string>() == "text" && message["emojis"] is null && message["text"] is JsonValue value && value.TryGetValue<string>(out var text))
            {
                var before = destinations.Count;
                var replaced = WebLink().Replace(text, m =>
                {
                    var (url, after) = TrimTrailing(m.Value);
                    // A URL running on into other characters (a path in Japanese, say) is left as LINE shows it.
                    var next = m.Index + m.Length < text.Length ? text[m.Index + m.Length] : ' ';
                    if (!char.IsWhiteSpace(next) && !"。、」』）】".Contains(next)) return m.Value;
                    if (destinations.Count >= MaxTracked || AsciiUrl(url) is not { } ascii) return m.Value;
                    destinations.Add(ascii);
                    return trackingUrl(destinations.Count) + after;
                });
                if (replaced.Length <= LineMessageRules.MaxTextLength) message["text"] = replaced;
                else destinations.RemoveRange(before, destinations.Count - before);
            }
            Visit(message, trackingUrl, destinations);
        }
        return (rewritten, destinations);
    }

    // Sentence punctuation after a URL is not part of it, nor is a closing parenthesis that opened before the URL.
    private static (string Url, string After) TrimTrailing(string match)
    {
        var end = match.Length;
        while (end > 0 && (".,;:!?'".Contains(match[end - 1]) || (match[end - 1] == ')' && match[..end].Count(c => c == '(') < match[..end].Count(c => c == ')'))))
            end--;
        return (match[..end], match[end..]);
    }

    /// <summary>The URL as an absolute http(s) URL in ASCII, or null when it is not one.</summary>
    public static string? AsciiUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)) return null;
        try
        {
            return new UriBuilder(uri) { Host = uri.IdnHost }.Uri.AbsoluteUri;
        }
        catch (UriFormatException)
        {
            return null;
        }
    }

    private static void Visit(JsonObject node, Func<int, string> trackingUrl, List<string> destinations)
    {
        foreach (var (name, value) in node.ToList())
        {
            switch (value)
            {
                case JsonObject child:
                    Visit(child, trackingUrl, destinations);
                    break;
                case JsonArray array:
                    foreach (var item in array.OfType<JsonObject>()) Visit(item, trackingUrl, destinations);
                    break;
                case JsonValue leaf when leaf.TryGetValue<string>(out var text):
                    if (name is "uri" or "linkUri" && destinations.Count < MaxTracked && AsciiUrl(text) is { } ascii)
                    {
                        destinations.Add(ascii);
                        node[name] = trackingUrl(destinations.Count);
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// Replaces every image URL in the messages — an image message's <c>originalContentUrl</c> and
    /// <c>previewImageUrl</c>, a flex image's <c>url</c>, an image map's <c>baseUrl</c> (to which LINE appends the
    /// width it wants) — with <paramref name="trackingUrl"/> for its position; returns the originals in that order.
    /// </summary>
    public static (JsonArray Messages, List<string> Originals) RewriteImages(JsonArray messages, Func<int, string> trackingUrl)
    {
        var rewritten = (JsonArray)messages.DeepClone();
        var originals = new List<string>();
        foreach (var message in rewritten.OfType<JsonObject>()) VisitImages(message, trackingUrl, originals);
        return (rewritten, originals);
    }

    private static void VisitImages(JsonObject node, Func<int, string> trackingUrl, List<string> originals)
    {
        var type = node["type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
        foreach (var (name, value) in node.ToList())
        {
            if (value is JsonObject child) VisitImages(child, trackingUrl, originals);
            else if (value is JsonArray array) foreach (var item in array.OfType<JsonObject>()) VisitImages(item, trackingUrl, originals);
            else if (value is JsonValue leaf && leaf.TryGetValue<string>(out var url) && originals.Count < MaxTracked && AsciiUrl(url) is { } ascii
                     && (type, name) is ("image", "originalContentUrl" or "previewImageUrl" or "url") or ("imagemap", "baseUrl"))
            {
                originals.Add(ascii);
                node[name] = trackingUrl(originals.Count);
            }
        }
    }

    // A URL in running text: the scheme in any case, then only characters a URL may hold unescaped, so text in
    // another script right after it (「…」, 、, を) ends it.
    [GeneratedRegex(@"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", RegexOptions.IgnoreCase)]
    private static partial Regex WebLink();
}
