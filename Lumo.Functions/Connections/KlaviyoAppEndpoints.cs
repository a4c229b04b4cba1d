using System.Net;
using Lumo.Core.Connections;
using Lumo.Core.Klaviyo;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Lumo.Functions.AdminPage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Lumo.Functions.Connections;

/// <summary>
/// Connecting Klaviyo as an app (OAuth): the admin call that starts it and the one that disconnects, and function
/// KlaviyoOAuthCallback (<c>GET /api/klaviyo/oauth/callback</c>, anonymous: Klaviyo sends the administrator's browser
/// there, and the one-time state is what authenticates it).
/// </summary>
public static class KlaviyoAppEndpoints
{
    public sealed record AppConnectionStart(Uri AuthorizeUrl, DateTimeOffset ExpiresAt);

    /// <summary>The admin page's link that starts (re)connecting the app for a workspace; the dashboard's reconnect URL.</summary>
    public static string ConnectPagePath(string workspaceId) => PageContext.Url($"/w/{workspaceId}/klaviyo/connect");

    public static RouteGroupBuilder MapKlaviyoAppEndpoints(this RouteGroupBuilder manage)
    {
        var app = manage.MapGroup("/workspaces/{workspaceId}/klaviyo/app").WithTags("Klaviyo app (OAuth)");
        app.MapPost("", Start);
        app.MapDelete("", Disconnect);
        return manage;
    }

    public static IEndpointRouteBuilder MapKlaviyoOAuthCallback(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/klaviyo/oauth/callback", Callback).ExcludeFromDescription();
        return routes;
    }

    /// <summary>Klaviyo's consent URL for the workspace (valid 10 minutes, once): open it as a Klaviyo administrator and approve the app.</summary>
    public static async Task<Results<Ok<AppConnectionStart>, ProblemHttpResult>> Start(string workspaceId, WorkspaceStore workspaces, KlaviyoAppConnection connection,
        IOptions<KlaviyoOptions> options, CancellationToken ct)
    {
        if (!options.Value.OAuthConfigured) return AppNotConfigured();
        if (await workspaces.GetWorkspaceIfExistsAsync(workspaceId, ct) is null) return AdminProblems.WorkspaceNotFound(workspaceId);
        var (url, expiresAt) = await connection.StartAsync(workspaceId, ct);
        return TypedResults.Ok(new AppConnectionStart(url, expiresAt));
    }

    /// <summary>Revokes the app in Klaviyo and pauses the workspace's Klaviyo work until it is connected again; 404 when it is not connected through the app.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> Disconnect(string workspaceId, WorkspaceStore workspaces, KlaviyoAppConnection connection, CancellationToken ct)
    {
        if (await workspaces.GetWorkspaceIfExistsAsync(workspaceId, ct) is not { } workspace) return AdminProblems.WorkspaceNotFound(workspaceId);
        return await connection.DisconnectAsync(workspace, ct)
            ? TypedResults.NoContent()
            : AdminProblems.NotFound("Not connected through the app", $"Workspace {workspaceId} is not connected to Klaviyo through the Lumo app.");
    }

    public static ProblemHttpResult AppNotConfigured() => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The Klaviyo app is not configured",
        detail: "Set Lumo:Klaviyo:OAuthClientId and Lumo:Klaviyo:OAuthClientSecret to connect workspaces through the Klaviyo app.");

    public static async Task<IResult> Callback(string? state, string? code, string? error, KlaviyoAppConnection connection, CancellationToken ct)
    {
        var result = await connection.CompleteAsync(state, code, error, ct);
        return result.Outcome switch
        {
            KlaviyoAppCallbackOutcome.Connected => Results.Redirect(PageContext.Url($"/w/{result.WorkspaceId}/dashboard")),
            KlaviyoAppCallbackOutcome.Denied => Page(400, "Klaviyo was not connected", $"{result.Detail} Nothing was changed; start again from the admin page to connect."),
            KlaviyoAppCallbackOutcome.ExchangeRefused or KlaviyoAppCallbackOutcome.OtherKlaviyoAccount =>
                Page(400, "Klaviyo was not connected", $"{result.Detail} Nothing was changed; start again from the admin page."),
            _ => Page(400, "This link is not valid", "The connection request is unknown, was already used, or is older than 10 minutes. Nothing was changed; start again from the admin page."),
        };
    }

    private static IResult Page(int status, string title, string text) => Results.Content(
        $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(title)}</title></head><body><h1>{WebUtility.HtmlEncode(title)}</h1><p>{WebUtility.HtmlEncode(text)}</p></body></html>",
        "text/html; charset=utf-8", statusCode: status);
}
