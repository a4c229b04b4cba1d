using Lumo.Core.Workspaces;

namespace Lumo.Functions.AdminPage;

/// <summary>Where a workspace page sits: the workspace and the LINE account its account pages are about.</summary>
public sealed record WorkspaceNav(Workspace Workspace, IReadOnlyList<LineAccount> Accounts, string? AccountId = null)
{
    public LineAccount? Account => Accounts.FirstOrDefault(a => a.Id == AccountId) ?? Accounts.FirstOrDefault();
}

/// <summary>The frame every admin page shares, and the headers that keep it to itself.</summary>
public static class PageLayout
{
    // Nothing from elsewhere, no inline script or style, no framing, forms only to ourselves.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static IResult Render(PageContext page, string title, Html body, WorkspaceNav? nav = null, int status = StatusCodes.Status200OK)
    {
        var response = page.Http.Response;
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Content-Type-Options"] = "nosniff";
        response.Headers["Referrer-Policy"] = "same-origin";
        response.Headers.XFrameOptions = "DENY";
        if (page.Problem is not null && status == StatusCodes.Status200OK) status = StatusCodes.Status400BadRequest;
        if (page.Errors.Count > 0 && status == StatusCodes.Status200OK) status = StatusCodes.Status400BadRequest;
        var html = Html.Of($"""
            <!doctype html>
            <html lang="{(page.Japanese ? "ja" : "en")}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{title} · Lumo for Klaviyo</title>
            <link rel="stylesheet" href="{PageContext.Url("/assets/admin-page.css")}"><script src="{PageContext.Url("/assets/admin-page.js")}" defer></script></head>
            <body><header><a class="brand" href="{PageContext.Url("/workspaces")}">Lumo for Klaviyo</a>{Navigation(page, nav)}{SignOut(page)}</header>
            <main id="main"><h1>{title}</h1>{Messages(page)}{body}</main></body></html>
            """);
        return Results.Content(html.ToString(), "text/html; charset=utf-8", statusCode: status);
    }

    private static Html Navigation(PageContext page, WorkspaceNav? nav)
    {
        if (nav is null) return Html.Empty;
        var ws = PageContext.Url($"/w/{nav.Workspace.Id}");
        var account = nav.Account is { } a ? $"{ws}/a/{a.Id}" : null;
        var links = new List<(string Label, string Href)>
        {
            (page.T("Dashboard"), ws + "/dashboard"), (page.T("Workspace"), ws), (page.T("Flow Message Settings"), ws + "/flow"),
            (page.T("Auto Send Messages"), ws + "/messages"), (page.T("Send log"), ws + "/sends"),
        };
        if (account is not null)
        {
            links.Add((page.T("ID linkage"), account + "/linkage"));
            links.Add((page.T("Friends"), account + "/friends"));
            links.Add((page.T("Broadcasts"), account + "/broadcasts"));
            links.Add((page.T("Sync Data"), account + "/sync-data"));
        }
        var current = page.Http.Request.Path.Value ?? "";
        return Html.Of($"""<nav aria-label="{page.T("Workspace")}"><span class="workspace">{nav.Workspace.Name}{(nav.Account is { } shown && nav.Accounts.Count > 1 ? " · " + shown.Name : "")}</span><ul>{links.Select(l =>
            Html.Of($"""<li><a href="{l.Href}"{Html.When(current == l.Href, Html.Of($" aria-current=\"page\""))}>{l.Label}</a></li>"""))}</ul></nav>""");
    }

    private static Html SignOut(PageContext page) => page.Session is null ? Html.Empty : Html.Of($"""
        <form class="sign-out" method="post" action="{PageContext.Url("/sign-out")}">{page.AntiForgeryField}<button type="submit">{page.T("Sign out")}</button></form>
        """);

    // Errors of fields the page has no input for (a message's inner parts, say) are listed on top rather than lost.
    private static Html Unshown(PageContext page)
    {
        var unshown = page.Errors.Where(e => !page.ShownFields.Any(f => string.Equals(e.Key, f, StringComparison.OrdinalIgnoreCase)
            || e.Key.StartsWith(f + ".", StringComparison.OrdinalIgnoreCase) || e.Key.StartsWith(f + "[", StringComparison.OrdinalIgnoreCase))).ToList();
        return unshown.Count == 0 ? Html.Empty
            : Html.Of($"""<ul class="problem">{unshown.SelectMany(e => e.Value.Select(m => Html.Of($"<li><code>{e.Key}</code>: {m}</li>")))}</ul>""");
    }

    private static Html Messages(PageContext page) => Html.Of($"""
        {Html.When(page.Notice is not null, Html.Of($"""<p class="notice" role="status">{page.Notice}</p>"""))}{Html.When(page.Problem is not null, Html.Of($"""<p class="problem" role="alert">{page.Problem}</p>"""))}{Html.When(page.Errors.Count > 0 && page.Problem is null, Html.Of($"""<p class="problem" role="alert">{page.T("Please correct the fields marked below.")}</p>"""))}{Unshown(page)}
        """);
}
