using System.Text.RegularExpressions;
using Lumo.Core;
using Lumo.Core.IdLinkage;
using Lumo.Core.Tracking;
using Lumo.Functions.IdLinkage;

namespace Lumo.Functions.Tracking;

/// <summary>
/// Function TrackClick (anonymous, <c>GET|HEAD /api/t/{workspace}/{send}/{link}/{mac}</c>): a tracking URL from a
/// LINE message. A 302 to the link's destination at once; anything that is not one of our tracking URLs (tampered,
/// truncated, unknown or expired send) gets a 404 page and records nothing.
/// </summary>
public static partial class ClickEndpoint
{
    public static IEndpointRouteBuilder MapClickTracking(this IEndpointRouteBuilder routes)
    {
        // Short parameter names on purpose: every part is checked here, and any malformed part is simply not ours (404).
        routes.MapMethods("/api/t/{w}/{s}/{n}/{m}", ["GET", "HEAD"], FollowAsync).ExcludeFromDescription();
        return routes;
    }

    public static async Task<IResult> FollowAsync(string w, string s, string n, string m, HttpContext context, ClickTracking clicks, CancellationToken ct)
    {
        ClickOutcome outcome = new(null);
        if (Ids.IsLumoId(w) && SendId().IsMatch(s) && int.TryParse(n, out var index) && index is > 0 and < 1000 && Mac().IsMatch(m))
            outcome = await clicks.FollowAsync(new TrackedLink(w, s, index), m, context.Request.Method, context.Request.Headers.UserAgent.ToString(), ct);
        if (outcome.Destination is { } destination)
        {
            LinkPages.NoReferrer(context.Response);
            return Results.Redirect(new Uri(destination).AbsoluteUri); // escaped: a header carries ASCII only
        }
        return LinkPages.Render(context, new LinkOutcomePage(404, "Link not found", "This link is not valid, or it has expired."));
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex SendId();

    [GeneratedRegex("^[A-Za-z0-9_-]{16}$")]
    private static partial Regex Mac();
}
