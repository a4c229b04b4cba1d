using Lumo.Core.Shopify;
using Lumo.Functions.Hosting;

namespace Lumo.Functions.Shopify;

/// <summary>
/// Queue function ShopifyWork carries out one piece of a store's work (sync, a webhook's product, feeds, uninstall,
/// privacy); timer ShopifySchedule (every 15 minutes) queues an incremental product pass for every installed store,
/// and a new count of sales where the last is an hour old.
/// </summary>
public static class ShopifyWorkFunctions
{
    public static IEndpointRouteBuilder MapShopifyWorkFunctions(this IEndpointRouteBuilder routes)
    {
        routes.MapTriggerFunction("ShopifySchedule", Schedule);
        routes.MapTriggerFunction("ShopifyWork", Work);
        return routes;
    }

    public static async Task<IResult> Schedule(InvocationEnvelope invocation, ShopifyWork work, CancellationToken ct) =>
        InvocationResult.Done($"Queued work for {await work.QueueDueWorkAsync(ct)} Shopify stores").ToHttpResult();

    public static async Task<IResult> Work(InvocationEnvelope invocation, ShopifyWork work, CancellationToken ct)
    {
        var item = invocation.GetData<ShopifyWorkItem>("item");
        return InvocationResult.Done($"{item.Kind} for workspace {item.WorkspaceId}: {await work.RunAsync(item, ct)}").ToHttpResult();
    }
}
