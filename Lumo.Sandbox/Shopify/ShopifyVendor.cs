using System.Text.Json.Nodes;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Specs;

namespace Lumo.Sandbox.Shopify;

/// <summary>
/// Shopify's auth and error shape. Each store is its own host in Shopify (<c>https://{shop}/admin/…</c>); the sandbox
/// serves them all under <c>/shopify/{shop}/admin/…</c>. The OAuth pages and token exchange are open (the client
/// secret authenticates the exchange); the Admin API needs the installation's <c>X-Shopify-Access-Token</c> for that store.
/// Its limit is cost-based and enforced by the GraphQL endpoint itself, not by request counts.
/// </summary>
public sealed class ShopifyVendor(ShopifyState state) : ISimulatedVendor
{
    public const string PathPrefix = "/shopify";

    public string Name => "shopify";
    public bool Owns(PathString path) => path.StartsWithSegments(PathPrefix);
    public SpecDocument? Spec => null; // Shopify publishes a GraphQL schema, not OpenAPI: AdminSchema is the contract
    public string MediaType => "application/json";

    public string? Authenticate(HttpContext context)
    {
        var segments = context.Request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length < 3 || segments[2] != "admin") return null;
        var shop = segments[1];
        if (segments.Length > 3 && segments[3] == "oauth") return $"shopify-oauth {shop}";
        var token = context.Request.Headers["X-Shopify-Access-Token"].ToString();
        return state.InstallationsByToken.TryGetValue(token, out var installation) && string.Equals(installation.Shop.Domain, shop, StringComparison.OrdinalIgnoreCase)
            ? $"{installation.App.ClientId} {shop}" : null;
    }

    public RateLimit? LimitFor(string method, string pathTemplate) => null;

    public IResult Error(int status, string message, IReadOnlyList<string>? details = null, TimeSpan? retryAfter = null) =>
        JsonBodies.Json(new JsonObject
        {
            ["errors"] = status == 401 ? "[API] Invalid API key or access token (unrecognized login or wrong password)" : details is { Count: > 0 } ? string.Join("; ", details) : message,
        }, status, MediaType, retryAfter);
}
