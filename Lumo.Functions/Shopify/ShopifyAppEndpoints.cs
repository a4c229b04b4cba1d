using System.Net;
using Lumo.Core.Shopify;
using Lumo.Functions.AdminPage;
using Lumo.Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.Shopify;

/// <summary>
/// What Shopify calls, all anonymous at the host (Shopify's signatures authenticate them): function ShopifyInstall
/// (<c>GET /api/shopify/install</c>, the app's App URL), ShopifyCallback (<c>GET /api/shopify/callback</c>, the allowed
/// redirection URL) and ShopifyWebhook (<c>POST /api/shopify/webhooks</c>, every webhook subscription's URI).
/// </summary>
public static class ShopifyAppEndpoints
{
    /// <summary>Shopify's webhook bodies are small; anything near this is not from Shopify.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapShopifyAppEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/shopify/install", Launch).ExcludeFromDescription();
        routes.MapGet("/api/shopify/callback", Callback).ExcludeFromDescription();
        routes.MapPost("/api/shopify/webhooks", Webhook).ExcludeFromDescription();
        return routes;
    }

    public static async Task<IResult> Launch(HttpRequest request, ShopifyInstallation installation, CancellationToken ct)
    {
        var (outcome, workspaceId) = await installation.LaunchAsync(QueryOf(request), ct);
        return outcome switch
        {
            ShopifyLaunchOutcome.Connected => Results.Redirect(PageContext.Url($"/w/{workspaceId}/dashboard")),
            ShopifyLaunchOutcome.NotConnected => Page(200, "Connect this store from Lumo",
                "Open Lumo's admin page, choose the workspace, and install the Shopify app from there: the install is tied to the workspace it is started from."),
            ShopifyLaunchOutcome.BadSignature => Page(401, "This link is not from Shopify", "The request's signature does not match. Open the app from your Shopify admin."),
            ShopifyLaunchOutcome.Stale => Page(400, "This link has expired", "Open the app again from your Shopify admin."),
            _ => Page(400, "Unknown store", "The request does not name a myshopify.com store."),
        };
    }

    public static async Task<IResult> Callback(HttpRequest request, ShopifyInstallation installation, CancellationToken ct)
    {
        var result = await installation.CompleteAsync(QueryOf(request), ct);
        return result.Outcome switch
        {
            ShopifyCallbackOutcome.Installed => Results.Redirect(PageContext.Url($"/w/{result.WorkspaceId}/dashboard")),
            ShopifyCallbackOutcome.BadSignature => Page(401, "This link is not from Shopify", "The request's signature does not match the Lumo app. Nothing was changed."),
            ShopifyCallbackOutcome.BadShop => Page(400, "Unknown store", "The request does not name a myshopify.com store. Nothing was changed."),
            ShopifyCallbackOutcome.UnknownState => Page(400, "This link is not valid",
                "The install request is unknown, was already used, or is older than 10 minutes. Nothing was changed; start again from Lumo's admin page."),
            ShopifyCallbackOutcome.TryAgain => Page(503, "Shopify did not answer", $"{result.Detail} Nothing was changed; start the install again from Lumo's admin page in a minute."),
            _ => Page(400, "Shopify was not connected", $"{result.Detail} Nothing was changed; start again from Lumo's admin page."),
        };
    }

    public static async Task<Results<Ok, ProblemHttpResult>> Webhook(HttpRequest request, ShopifyWebhookIntake intake, CancellationToken ct)
    {
        var body = await LimitedBody.ReadAsync(request, MaxBodyBytes, ct);
        if (body is null) return LimitedBody.TooLarge(MaxBodyBytes);
        var headers = request.Headers;
        var outcome = await intake.AcceptAsync(body, headers["X-Shopify-Hmac-Sha256"], headers["X-Shopify-Topic"], headers["X-Shopify-Shop-Domain"],
            headers["X-Shopify-Triggered-At"], ct);
        return outcome switch
        {
            ShopifyWebhookOutcome.Accepted => TypedResults.Ok(),
            ShopifyWebhookOutcome.BadSignature => TypedResults.Problem(statusCode: 401, title: "Invalid signature",
                detail: "The X-Shopify-Hmac-Sha256 header is missing or does not match the body and the app's client secret."),
            ShopifyWebhookOutcome.UnknownShop => TypedResults.Problem(statusCode: 400, title: "Unknown store",
                detail: $"No workspace has installed the Lumo app on {headers["X-Shopify-Shop-Domain"]}."),
            _ => TypedResults.Problem(statusCode: 400, title: "Malformed webhook",
                detail: "The webhook needs X-Shopify-Topic, a myshopify.com X-Shopify-Shop-Domain and a JSON body (with the product id for product topics)."),
        };
    }

    // Every parameter as Shopify sent it, decoded, in order (the signature covers them all).
    private static List<KeyValuePair<string, string>> QueryOf(HttpRequest request) =>
        request.Query.SelectMany(p => p.Value.Select(v => KeyValuePair.Create(p.Key, v ?? ""))).ToList();

    private static IResult Page(int status, string title, string text) => Results.Content(
        $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(title)}</title></head><body><h1>{WebUtility.HtmlEncode(title)}</h1><p>{WebUtility.HtmlEncode(text)}</p></body></html>",
        "text/html; charset=utf-8", statusCode: status);
}
