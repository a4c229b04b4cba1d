namespace Lumo.Functions.AdminPage.Pages;

/// <summary>
/// Sign-in with the admin key. The page script sends the key once, in the <c>x-functions-key</c> header, to
/// <c>POST /api/manage/session</c>, where the admin API's own check (the Functions host's, under Azure) decides; the
/// answer is the session cookie. The key is never put in a URL, a cookie or the browser's storage.
/// </summary>
public static class SignInPage
{
    public static IResult Show(HttpContext http, string? returnUrl)
    {
        var page = new PageContext(http);
        var form = Html.Of($"""
            <form id="sign-in" method="post" action="{PageContext.Url("/sign-in")}" data-session-url="/api/manage/session" data-return-url="{LocalReturnUrl(returnUrl)}"
                  data-wrong-key="{page.T("That is not the admin key. Check it and try again.")}" data-failed="{page.T("Sign-in failed. Try again in a moment.")}">
            <div class="field"><label for="f-key">{page.T("Admin key")}</label>
            <input id="f-key" type="password" autocomplete="current-password" required aria-describedby="f-key-hint f-key-error">
            <p class="hint" id="f-key-hint">{page.T("Standalone: the Lumo__Admin__Key setting. In Azure: the function app's _master key (Azure portal → Function App → App keys).")}</p>
            <p class="error" id="f-key-error" hidden></p></div>
            <button type="submit">{page.T("Sign in")}</button></form>
            """);
        return PageLayout.Render(page, page.T("Sign in"), form);
    }

    /// <summary>
    /// Reached only when the page script did not run: the key must travel in a header, which a plain form cannot send.
    /// The key field has no name, so even then the key is not in what the browser posts.
    /// </summary>
    public static IResult WithoutScript(HttpContext http)
    {
        var page = new PageContext(http);
        page.Fail(page.T("Signing in needs JavaScript: the key is sent in a header, never in a form body or URL. Turn JavaScript on for this site and try again."));
        return PageLayout.Render(page, page.T("Sign in"), Html.Empty, status: StatusCodes.Status400BadRequest);
    }

    // Only a path of the admin page itself: no open redirect to another site.
    private static string LocalReturnUrl(string? returnUrl) =>
        returnUrl is { } url && url.StartsWith(AdminPageEndpoints.RoutePrefix + "/", StringComparison.Ordinal) && !url.Contains("//") && !url.Contains('\\')
            ? url : AdminPageEndpoints.RoutePrefix + "/workspaces";
}
