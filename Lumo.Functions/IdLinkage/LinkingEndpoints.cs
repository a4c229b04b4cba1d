using System.Threading.RateLimiting;
using Lumo.Core.IdLinkage;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Lumo.Functions.IdLinkage;

/// <summary>
/// Function IdLinking (anonymous, <c>GET /api/link/...</c>): the public side of ID linkage. QR code and form
/// landings resolve the profile and send the browser to LINE Login; the callback links; QR images render linking
/// URLs; form.js is the Landing Page Embed Code's script. Rate limited per client.
/// </summary>
public static class LinkingEndpoints
{
    private const string RateLimitPolicy = "linking";

    public static IServiceCollection AddIdLinkingEndpoints(this IServiceCollection services)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(RateLimitPolicy, context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptions<IdLinkageOptions>>().Value.RequestsPerClientPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(ClientOf(context), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0,
                });
            });
            limiter.OnRejected = async (rejected, ct) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                rejected.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
                await LinkPages.Render(rejected.HttpContext, new LinkOutcomePage(429, "Too many attempts", "Please wait a minute and try again."))
                    .ExecuteAsync(rejected.HttpContext);
            };
        });
        return services;
    }

    // The client's address as the forwarded-headers middleware established it: X-Forwarded-For is believed only when
    // it comes from a configured proxy (Network:KnownProxies / KnownNetworks; loopback, i.e. the Functions host, by default).
    private static string ClientOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public static IEndpointRouteBuilder MapIdLinking(this IEndpointRouteBuilder routes)
    {
        var link = routes.MapGroup("/api/link").RequireRateLimiting(RateLimitPolicy).ExcludeFromDescription();
        link.MapGet("/{workspaceId}/{accountId}/qr/{codeId}", (string workspaceId, string accountId, string codeId, string? email, string? phone, string? t, HttpContext context, LinkingFlow flow, IOptions<IdLinkageOptions> options, CancellationToken ct) =>
            StartAsync(context, flow, options.Value, new LinkStart(workspaceId, accountId, LinkMethods.QrCode, codeId, email, phone, t), ct));
        link.MapGet("/{workspaceId}/{accountId}/form", (string workspaceId, string accountId, string? email, string? phone, string? t, HttpContext context, LinkingFlow flow, IOptions<IdLinkageOptions> options, CancellationToken ct) =>
            StartAsync(context, flow, options.Value, new LinkStart(workspaceId, accountId, LinkMethods.Form, null, email, phone, t), ct));
        link.MapGet("/callback", async (string? state, string? code, string? error, HttpContext context, LinkingFlow flow, IOptions<IdLinkageOptions> options, CancellationToken ct) =>
            LinkPages.Render(context, await flow.CompleteAsync(state, code, error, BrowserBinding.IsBound(context, state), options.Value.CallbackUrl, ct)));
        link.MapGet("/{workspaceId}/{accountId}/qr/{codeId}/qr.png", (string workspaceId, string accountId, string codeId, HttpContext context, IOptions<IdLinkageOptions> options) =>
            QrImage(context, options.Value.Url($"/api/link/{workspaceId}/{accountId}/qr/{codeId}{context.Request.QueryString}")));
        link.MapGet("/{workspaceId}/{accountId}/form/qr.png", (string workspaceId, string accountId, HttpContext context, IOptions<IdLinkageOptions> options) =>
            QrImage(context, options.Value.Url($"/api/link/{workspaceId}/{accountId}/form{context.Request.QueryString}")));
        link.MapGet("/{workspaceId}/{accountId}/form.js", FormScript.ServeAsync);
        return routes;
    }

    private static async Task<IResult> StartAsync(HttpContext context, LinkingFlow flow, IdLinkageOptions options, LinkStart start, CancellationToken ct)
    {
        var page = await flow.StartAsync(start, options.CallbackUrl, ct);
        if (page.BindToBrowser is { } state) BrowserBinding.Bind(context, state, LinkingFlow.SessionLifetime);
        return LinkPages.Render(context, page);
    }

    // The image of a personalised linking URL (Klaviyo fills the merge variables in the <img> URL per recipient).
    private static IResult QrImage(HttpContext context, Uri linkingUrl)
    {
        LinkPages.NoReferrer(context.Response);
        return Results.File(QrImages.Png(linkingUrl.ToString()), "image/png");
    }
}
