using System.Net;
using Lumo.Core.IdLinkage;

namespace Lumo.Functions.IdLinkage;

/// <summary>
/// The pages customers see during linking: small, readable on a phone and on a desktop, no scripts, nothing
/// loaded from elsewhere, and no Referer leaving them (the landing URL may carry an email address).
/// </summary>
public static class LinkPages
{
    public static void NoReferrer(HttpResponse response)
    {
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Content-Type-Options"] = "nosniff";
    }

    public static IResult Render(HttpContext context, LinkOutcomePage page)
    {
        NoReferrer(context.Response);
        if (page.RedirectTo is { } to) return Results.Redirect(to.AbsoluteUri); // escaped: Uri.ToString() would unescape the query
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'";
        var friendButton = page.AddFriendUrl is { } url
            ? $"<p><a class=button href=\"{WebUtility.HtmlEncode(url)}\">Open the LINE account</a></p>" : "";
        var mark = page.Status == 200 ? "✓" : "!";
        var html = $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer"><title>{{WebUtility.HtmlEncode(page.Title)}}</title>
            <style>body{font-family:system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0;background:#f5f6f7;color:#1e1e1e}
            main{max-width:28rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:1rem;text-align:center;box-shadow:0 1px 4px #0002}
            .mark{font-size:3rem;color:{{(page.Status == 200 ? "#06c755" : "#d93025")}}}h1{font-size:1.4rem}p{line-height:1.6}
            .button{display:inline-block;padding:.8rem 1.6rem;border-radius:2rem;background:#06c755;color:#fff;text-decoration:none;font-weight:600}</style></head>
            <body><main><div class="mark">{{mark}}</div><h1>{{WebUtility.HtmlEncode(page.Title)}}</h1><p>{{WebUtility.HtmlEncode(page.Message)}}</p>{{friendButton}}</main></body></html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", statusCode: page.Status);
    }
}
