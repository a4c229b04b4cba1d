using System.Text.RegularExpressions;
using Lumo.Core;
using Lumo.Core.IdLinkage;
using Lumo.Core.Tracking;
using Lumo.Functions.IdLinkage;

namespace Lumo.Functions.Tracking;

/// <summary>
/// Functions TrackClick and TrackOpen (anonymous, <c>GET|HEAD /api/t/...</c> for links, <c>/api/o/...</c> for images, then
/// <c>{workspace}/{send}/{position}/{mac}</c>, and for an image map the width LINE appends): a 302 to the original
/// at once. Anything that is not one of our tracking URLs (tampered, truncated, unknown or expired send) gets a
/// 404 and records nothing.
/// </summary>
public static partial class TrackingEndpoints
{
    public static IEndpointRouteBuilder MapTracking(this IEndpointRouteBuilder routes)
    {
        // Short parameter names on purpose: every part is checked here, and any malformed part is simply not ours (404).
        routes.MapMethods("/api/t/{w}/{s}/{n}/{m}", ["GET", "HEAD"], (string w, string s, string n, string m, HttpContext context, EngagementTracking tracking, CancellationToken ct) =>
            FollowAsync(TrackedKind.Link, w, s, n, m, null, context, tracking, ct)).ExcludeFromDescription();
        routes.MapMethods("/api/o/{w}/{s}/{n}/{m}/{size?}", ["GET", "HEAD"], (string w, string s, string n, string m, string? size, HttpContext context, EngagementTracking tracking,
            CancellationToken ct) => FollowAsync(TrackedKind.Image, w, s, n, m, size, context, tracking, ct)).ExcludeFromDescription();
        return routes;
    }

    private static async Task<IResult> FollowAsync(TrackedKind kind, string w, string s, string n, string m, string? size, HttpContext context, EngagementTracking tracking,
        CancellationToken ct)
    {
        TrackedDestination found = new(null);
        if (Ids.IsLumoId(w) && Ids.IsSendId(s) && int.TryParse(n, out var index) && index is > 0 and < 1000 && Mac().IsMatch(m) && (size is null || Width().IsMatch(size)))
            found = await tracking.FollowAsync(new TrackedLink(w, s, index, kind), m, context.Request.Method, context.Request.Headers.UserAgent.ToString(), ct);
        var destination = found.Url is not { } url ? null : size is null ? url : $"{url.TrimEnd('/')}/{size}"; // an image map's width, as LINE asks for it
        // Stored in ASCII when the send was recorded; anything else (an older record) is not followed.
        if (destination is null || TrackedLinks.AsciiUrl(destination) is not { } location)
        {
            if (kind == TrackedKind.Image) return Results.NotFound();
            return LinkPages.Render(context, new LinkOutcomePage(404, "Link not found", "This link is not valid, or it has expired."));
        }
        LinkPages.NoReferrer(context.Response);
        // An image answer may be kept by the phone (never by a shared cache) once the open is recorded; until then each
        // load must reach us, or a load too early to count would hide the real one.
        if (kind == TrackedKind.Image && found.Cacheable) context.Response.Headers.CacheControl = "private, max-age=86400";
        return Results.Redirect(location);
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{16}$")]
    private static partial Regex Mac();

    [GeneratedRegex("^[0-9]{2,4}$")]
    private static partial Regex Width();
}
