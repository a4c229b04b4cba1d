using Lumo.Functions.AdminPage.Pages;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.AdminPage;

/// <summary>
/// The admin page under <c>/api/console</c> (function AdminPage, <c>authLevel: anonymous</c>: it checks its own
/// session cookie). It is a second face of the admin API: every form is handled by calling the admin API's own
/// handler, so validation, business rules and the wording of problems exist once, and a field's error shows beside it.
/// </summary>
public static class AdminPageEndpoints
{
    public const string RoutePrefix = "/api/console";

    public static IServiceCollection AddAdminPage(this IServiceCollection services)
    {
        services.AddOptions<AdminPageOptions>().BindConfiguration(AdminPageOptions.Section)
            .Validate(o => o.LoginPath.StartsWith("/.auth/", StringComparison.Ordinal), "Lumo__AdminPage__LoginPath is a path of App Service Authentication (/.auth/login/<provider>).")
            .ValidateOnStart();
        return services.AddSingleton<EntraSignIn>().AddSingleton<AdminPageSessions>();
    }

    /// <summary><c>POST /api/manage/session</c>: the admin key, checked like any admin call, buys a page session cookie.</summary>
    public static RouteGroupBuilder MapAdminPageSignIn(this RouteGroupBuilder manage)
    {
        manage.MapPost("/session", StartSession).AddEndpointFilter<EntraGate>().WithTags("Admin page");
        return manage;
    }

    public static IEndpointRouteBuilder MapAdminPage(this IEndpointRouteBuilder routes)
    {
        if (routes.ServiceProvider.GetRequiredService<EntraSignIn>() is { Required: true, PlatformVouches: false })
            routes.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Lumo.Admin").LogWarning(
                "Lumo__AdminPage__RequireEntraSignIn is on but App Service Authentication is off (WEBSITE_AUTH_ENABLED): the admin page refuses every request");
        var page = routes.MapGroup(RoutePrefix).ExcludeFromDescription().AddEndpointFilter<EntraGate>();
        page.MapGet("/sign-in", SignInPage.Show);
        page.MapPost("/sign-in", SignInPage.WithoutScript);
        page.MapGet("/assets/{name}", PageAssets.Serve);

        var signedIn = page.MapGroup("").AddEndpointFilter<SessionFilter>();
        signedIn.MapGet("/", () => Results.Redirect(RoutePrefix + "/workspaces"));
        signedIn.MapPost("/sign-out", SignOut);
        WorkspacePages.Map(signedIn);
        DashboardPage.Map(signedIn);
        FlowSettingsPage.Map(signedIn);
        MessagePages.Map(signedIn);
        IdLinkagePage.Map(signedIn);
        FriendPages.Map(signedIn);
        BroadcastPage.Map(signedIn);
        SyncDataPage.Map(signedIn);
        return routes;
    }

    /// <summary>Signs the admin page in. Reached only with the admin key (the host's master key under Azure Functions).</summary>
    public static async Task<NoContent> StartSession(HttpContext http, AdminPageSessions sessions, ILoggerFactory loggers, CancellationToken ct)
    {
        var session = await sessions.SignInAsync(http, http.RequestServices.GetRequiredService<EntraSignIn>().UserOf(http.Request), ct);
        loggers.CreateLogger("Lumo.Admin").LogInformation("Admin page signed in by {Identity} until {ExpiresAt}", session.Identity, session.ExpiresAt);
        return TypedResults.NoContent();
    }

    /// <summary>Signs this session out everywhere; with <c>everyone=true</c> every session signed in until now.</summary>
    private static async Task<IResult> SignOut(HttpContext http, AdminPageSessions sessions, ILoggerFactory loggers, CancellationToken ct)
    {
        var session = (AdminPageSession)http.Items[typeof(AdminPageSession)]!;
        var everyone = http.Request.Form["everyone"] == "true";
        await sessions.SignOutAsync(http, session, everyone, ct);
        loggers.CreateLogger("Lumo.Admin").LogInformation("Admin page signed out by {Identity}{Scope}", session.Identity, everyone ? ": every session" : "");
        return Results.Redirect(RoutePrefix + "/sign-in");
    }

    /// <summary>
    /// The optional second gate (<see cref="AdminPageOptions.RequireEntraSignIn"/>): without an Entra sign-in by App
    /// Service Authentication, a page view goes to its login and comes back; anything else is refused.
    /// </summary>
    private sealed class EntraGate(EntraSignIn entra) : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            var http = context.HttpContext;
            if (!entra.Required || entra.UserOf(http.Request) is not null) return await next(context);
            if (!entra.PlatformVouches)
                return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "App Service Authentication is off",
                    detail: "The admin page requires an Entra ID sign-in (Lumo__AdminPage__RequireEntraSignIn), but App Service Authentication is off: turn it on, or the setting off.");
            if (!HttpMethods.IsGet(http.Request.Method) || !http.Request.Path.StartsWithSegments(RoutePrefix))
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Entra sign-in required",
                    detail: "The admin page needs an Entra ID sign-in (App Service Authentication) before the admin key.");
            var back = (http.Request.Path + http.Request.QueryString).ToString();
            return Results.Redirect($"{entra.LoginPath}?post_login_redirect_uri={Uri.EscapeDataString(back)}");
        }
    }

    /// <summary>
    /// Lets a request through only with a live session; a change (POST) only with the session's anti-forgery token.
    /// Without a session a page view goes to sign-in and comes back after it.
    /// </summary>
    private sealed class SessionFilter(AdminPageSessions sessions, EntraSignIn entra, ILogger<SessionFilter> logger) : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            var http = context.HttpContext;
            var session = await sessions.ReadAsync(http, http.RequestAborted);
            // Behind the Entra gate a session belongs to the Entra user who opened it, not to whoever holds the cookie.
            if (session is not null && entra.Required && session.EntraUser != entra.UserOf(http.Request)) session = null;
            if (session is null)
            {
                // A page view comes back to itself after sign-in; a change comes back to the page it was made on (not repeated).
                var back = HttpMethods.IsGet(http.Request.Method) ? (http.Request.Path + http.Request.QueryString).ToString()
                    : http.Request.GetTypedHeaders().Referer is { } referer && referer.Authority == http.Request.Host.Value ? referer.PathAndQuery : "";
                return Results.Redirect(RoutePrefix + "/sign-in" + (back.Length > 0 ? "?returnUrl=" + Uri.EscapeDataString(back) : ""));
            }
            http.Items[typeof(AdminPageSession)] = session;
            if (HttpMethods.IsPost(http.Request.Method))
            {
                var token = http.Request.HasFormContentType ? (await http.Request.ReadFormAsync(http.RequestAborted))["__csrf"].ToString() : null;
                if (!AdminPageSessions.IsAntiForgeryTokenValid(session, token))
                {
                    logger.LogWarning("Refused admin page change {Path}: missing or wrong anti-forgery token", http.Request.Path);
                    var page = new PageContext(http);
                    page.Fail(page.T("This form did not come from a page of this session (its anti-forgery token is missing or wrong). Nothing was changed: open the page again and repeat."));
                    return PageLayout.Render(page, page.T("Refused"), Html.Empty, status: StatusCodes.Status400BadRequest);
                }
            }
            return await next(context);
        }
    }
}
