using System.Text.RegularExpressions;
using Lumo.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Lumo.Tests.AdminPage;

/// <summary>The admin page over plain HTTP, for tests that need no browser: sign-in, the session cookie, anti-forgery tokens.</summary>
public static partial class AdminPageHttp
{
    /// <summary>A client that follows no redirect and keeps no cookies (the test sets the session cookie itself).</summary>
    public static HttpClient Client(LumoApp app, string? sessionCookie = null)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        if (sessionCookie is not null) client.DefaultRequestHeaders.Add("Cookie", sessionCookie);
        return client;
    }

    /// <summary>What the page script does to sign in: the admin key in a header to POST /api/manage/session.</summary>
    public static Task<HttpResponseMessage> SignInAsync(HttpClient client)
    {
        var session = new HttpRequestMessage(HttpMethod.Post, "/api/manage/session");
        session.Headers.Add("x-functions-key", LumoApp.AdminKey);
        return client.SendAsync(session);
    }

    /// <summary>
    /// The session cookie a sign-in set, as "name=value". (.NET's cookie container keeps only cookies whose path holds
    /// the request's; a browser keeps this one for /api/console.)
    /// </summary>
    public static string SessionCookie(HttpResponseMessage signedIn) => signedIn.Headers.GetValues("Set-Cookie").Single().Split(';')[0];

    /// <summary>The anti-forgery token a page's forms carry.</summary>
    public static string AntiForgeryToken(string page) => AntiForgeryField().Match(page).Groups[1].Value;

    [GeneratedRegex("name=\"__csrf\" value=\"([^\"]+)\"")]
    private static partial Regex AntiForgeryField();
}
