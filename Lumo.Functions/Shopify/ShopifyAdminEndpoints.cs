using Lumo.Core.ProductCards;
using Lumo.Core.Shopify;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Lumo.Functions.Shopify;

/// <summary>
/// A workspace's Shopify store, for the admin: start installing the Lumo app on a store, see the store's state and
/// its feeds, and ask for a product sync now.
/// </summary>
public static class ShopifyAdminEndpoints
{
    public sealed record InstallRequest(string? Shop);
    public sealed record InstallStart(Uri AuthorizeUrl, DateTimeOffset ExpiresAt);
    public sealed record FeedView(string Feed, int Products, DateTimeOffset? BuiltAt, IReadOnlyList<Product> Items);
    public sealed record StoreView(string Shop, bool Installed, DateTimeOffset InstalledAt, DateTimeOffset? UninstalledAt, string Scope, string? Currency,
        bool FullSyncDone, int ProductsSynced, DateTimeOffset? SyncedUpTo, DateTimeOffset? SalesCountedAt, string? LastError, IReadOnlyList<FeedView> Feeds);

    public static RouteGroupBuilder MapShopifyAdminEndpoints(this RouteGroupBuilder manage)
    {
        var shopify = manage.MapGroup("/workspaces/{workspaceId}/shopify").WithTags("Shopify");
        shopify.MapPost("/install", StartInstall);
        shopify.MapGet("", GetStore);
        shopify.MapPost("/sync", SyncNow);
        return manage;
    }

    /// <summary>The store's grant URL (valid 10 minutes, once): open it as the store's owner or staff with app permissions and install.</summary>
    public static async Task<Results<Ok<InstallStart>, ValidationProblem, ProblemHttpResult>> StartInstall(string workspaceId, InstallRequest request, WorkspaceStore workspaces,
        ShopifyInstallation installation, ShopifyConnectionStore connections, IOptions<ShopifyOptions> options, CancellationToken ct)
    {
        if (!options.Value.Configured)
            return TypedResults.Problem(statusCode: 409, title: "The Shopify app is not configured",
                detail: "Set Lumo:Shopify:ClientId and Lumo:Shopify:ClientSecret to install the Lumo app on Shopify stores.");
        if (!ShopDomain.TryParse(request.Shop?.Trim(), out var shop))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["shop"] = ["The store's myshopify.com domain, e.g. lumo-demo.myshopify.com."] });
        if (await workspaces.GetWorkspaceIfExistsAsync(workspaceId, ct) is null) return AdminProblems.WorkspaceNotFound(workspaceId);
        if (ShopifyInstallation.OtherStoreInstalled(await connections.GetIfExistsAsync(workspaceId, ct), shop) is { } other)
            return TypedResults.Problem(statusCode: 409, title: "Another store is connected", detail: other);
        var (url, expiresAt) = await installation.StartAsync(workspaceId, shop, ct);
        return TypedResults.Ok(new InstallStart(url, expiresAt));
    }

    public static async Task<Results<Ok<StoreView>, ProblemHttpResult>> GetStore(string workspaceId, ShopifyConnectionStore connections, ShopifyFeedStore feeds, CancellationToken ct)
    {
        if (await connections.GetIfExistsAsync(workspaceId, ct) is not { } c)
            return AdminProblems.NotFound("No Shopify store", $"Workspace {workspaceId} has no Shopify store; install the Lumo app with POST …/shopify/install.");
        var views = new List<FeedView>();
        foreach (var (name, feed) in ProductFeeds.Names)
        {
            var read = await feeds.ReadAsync(workspaceId, feed, ct);
            views.Add(new FeedView(name, read.Products.Count, read.BuiltAt == default ? null : read.BuiltAt, read.Products));
        }
        var (_, salesCountedAt) = await feeds.ReadSalesAsync(workspaceId, ct);
        return TypedResults.Ok(new StoreView(c.Shop.Value, c.Installed, c.InstalledAt, c.UninstalledAt, c.Scope, c.Currency, c.FullSyncDone, c.Products, c.SyncedUpTo,
            salesCountedAt, c.LastError, views));
    }

    /// <summary>Queues a product sync (the full sync if it has not finished, else an incremental pass) and a new count of sales.</summary>
    public static async Task<Results<Accepted, ProblemHttpResult>> SyncNow(string workspaceId, ShopifyConnectionStore connections, LumoQueues queues, CancellationToken ct)
    {
        if (await connections.GetIfExistsAsync(workspaceId, ct) is not { Installed: true })
            return AdminProblems.NotFound("No installed Shopify store", $"Workspace {workspaceId} has no store with the Lumo app installed.");
        await queues.EnqueueAsync(QueueNames.ShopifyWork, new ShopifyWorkItem(workspaceId, ShopifyWorkKind.SyncProducts), ct);
        await queues.EnqueueAsync(QueueNames.ShopifyWork, new ShopifyWorkItem(workspaceId, ShopifyWorkKind.CountSales), ct);
        return TypedResults.Accepted((string?)null);
    }
}
