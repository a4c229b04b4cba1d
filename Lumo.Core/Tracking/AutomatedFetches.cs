using System.Text.RegularExpressions;

namespace Lumo.Core.Tracking;

/// <summary>
/// Requests that are not a person following a link: HEAD requests (link checkers and scanners), and user agents of
/// link-preview crawlers, search bots and security scanners. LINE builds URL previews server-side with
/// <c>facebookexternalhit/1.1;line-poker/1.0</c> from its own addresses as soon as a URL is sent in a chat; LINE's
/// in-app browser, by contrast, is a phone browser whose user agent ends in <c>Line/x.y.z</c>, which must count (so
/// "line" alone is never matched). Sources: LINE's preview behaviour as observed in community server logs
/// (did2memo.net 2015, code.st40.xyz), preview-bot lists in Next.js (html-bots.ts) and ESP bot filtering (Braze).
/// </summary>
public static partial class AutomatedFetches
{
    public static bool IsAutomated(string method, string? userAgent) =>
        string.Equals(method, "HEAD", StringComparison.OrdinalIgnoreCase) || string.IsNullOrWhiteSpace(userAgent) || Bots().IsMatch(userAgent);

    [GeneratedRegex(@"line-poker|facebookexternalhit|Twitterbot|Slackbot|Discordbot|WhatsApp|TelegramBot|SkypeUriPreview|LinkedInBot|" +
                    @"Googlebot|Google-InspectionTool|bingbot|BingPreview|Yeti|Applebot|Line-Crawler|Linespider|" +
                    @"Barracuda|Proofpoint|Mimecast|python-requests|curl/|Wget|Go-http-client|HeadlessChrome|okhttp",
                    RegexOptions.IgnoreCase)]
    private static partial Regex Bots();
}
