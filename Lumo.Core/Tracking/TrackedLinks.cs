using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lumo.Core.AutoSendMessages;
using Lumo.Core.Friends;
using Microsoft.AspNetCore.WebUtilities;

namespace Lumo.Core.Tracking;

/// <summary>One link of a send as its tracking URL names it.</summary>
public sealed record TrackedLink(string WorkspaceId, string SendId, int Index);

/// <summary>
/// Tracking URLs for the links of a send: <c>{base}/api/t/{workspace}/{send}/{index}/{mac}</c>, where the mac is an
/// HMAC of the other parts under a key derived from the deployment key. The URL names the link but carries no
/// destination: the destination comes only from the send's own record, so the endpoint can never be an open
/// redirect, and a tampered URL fails the mac check.
/// </summary>
public sealed partial class TrackedLinks(ContactIndexKey deploymentKey)
{
    private byte[]? _key;

    public async ValueTask<string> PathForAsync(TrackedLink link, CancellationToken cancellationToken) =>
        $"/api/t/{link.WorkspaceId}/{link.SendId}/{link.Index}/{await MacAsync(link, cancellationToken)}";

    /// <summary>Whether <paramref name="mac"/> is the link's own (compared in constant time).</summary>
    public async ValueTask<bool> IsAuthenticAsync(TrackedLink link, string mac, CancellationToken cancellationToken) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(await MacAsync(link, cancellationToken)), Encoding.ASCII.GetBytes(mac));

    private async ValueTask<string> MacAsync(TrackedLink link, CancellationToken cancellationToken)
    {
        _key ??= (await deploymentKey.GetAsync(cancellationToken)).DeriveKey("tracking-link");
        return WebEncoders.Base64UrlEncode(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{link.WorkspaceId}\n{link.SendId}\n{link.Index}")), 0, 12);
    }

    /// <summary>
    /// Replaces every http(s) link in the messages — URLs in texts, and the <c>uri</c>/<c>linkUri</c> of actions in
    /// templates, flex messages and image maps — with <paramref name="trackingUrl"/> for its position; returns the
    /// rewritten messages and the original destinations in that order. A text that would grow past LINE's 5,000
    /// characters keeps its links as they are.
    /// </summary>
    public static (JsonArray Messages, List<string> Destinations) Rewrite(JsonArray messages, Func<int, string> trackingUrl)
    {
        var rewritten = (JsonArray)messages.DeepClone();
        var destinations = new List<string>();
        foreach (var message in rewritten.OfType<JsonObject>())
        {
            // Only a text message's own text is auto-linked by LINE; texts inside flex messages are not links.
            if (message["type"]?.GetValue<string>() == "text" && message["text"] is JsonValue value && value.TryGetValue<string>(out var text))
            {
                var before = destinations.Count;
                var replaced = WebLink().Replace(text, m => { destinations.Add(m.Value); return trackingUrl(destinations.Count); });
                if (replaced.Length <= LineMessageRules.MaxTextLength) message["text"] = replaced;
                else destinations.RemoveRange(before, destinations.Count - before);
            }
            Visit(message, trackingUrl, destinations);
        }
        return (rewritten, destinations);
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
                    if (name is "uri" or "linkUri" && IsWebLink(text))
                    {
                        destinations.Add(text);
                        node[name] = trackingUrl(destinations.Count);
                    }
                    break;
            }
        }
    }

    private static bool IsWebLink(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    // A URL in running text ends at whitespace; a closing bracket or sentence punctuation after it is not part of it.
    [GeneratedRegex(@"https?://[^\s<>""]+[^\s<>"".,;:!?)\]}'’」。、]")]
    private static partial Regex WebLink();
}
