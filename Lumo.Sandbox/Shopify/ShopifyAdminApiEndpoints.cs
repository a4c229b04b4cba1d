using System.Text.Json;
using System.Text.Json.Nodes;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Shopify.GraphQL;

namespace Lumo.Sandbox.Shopify;

/// <summary>
/// The simulated GraphQL Admin API, <c>POST /shopify/{shop}/admin/api/{version}/graphql.json</c> with
/// <c>{"query","variables"}</c>. Errors are HTTP 200 with <c>errors[]</c>, as in Shopify; every answer carries
/// <c>extensions.cost</c>. A query whose requested cost exceeds what the app's bucket on this store holds is
/// <c>THROTTLED</c> and charged nothing; one above 1,000 points is <c>MAX_COST_EXCEEDED</c>.
/// </summary>
public static class ShopifyAdminApiEndpoints
{
    public static IEndpointRouteBuilder MapShopifyAdminApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(ShopifyVendor.PathPrefix + "/{shop}/admin/api/{version}/graphql.json", Query).DisableAntiforgery();
        return routes;
    }

    private static async Task<IResult> Query(string shop, string version, HttpContext context, ShopifyState state)
    {
        if (version != ShopifyState.ApiVersion)
            return Results.Json(new JsonObject { ["errors"] = $"API version {version} is not served by the sandbox (it serves {ShopifyState.ApiVersion})." }, statusCode: 404);
        // The vendor's authentication let the token in; an uninstall in between leaves it unknown, as Shopify answers then.
        if (!state.InstallationsByToken.TryGetValue(context.Request.Headers["X-Shopify-Access-Token"].ToString(), out var installation))
            return Results.Json(new JsonObject { ["errors"] = "[API] Invalid API key or access token (unrecognized login or wrong password)" }, statusCode: 401);
        JsonObject? body;
        try { body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject; }
        catch (JsonException) { body = null; }
        if (body?["query"] is not JsonValue q || !q.TryGetValue<string>(out var text))
            return Results.Json(new JsonObject { ["errors"] = new JsonObject { ["query"] = "Required parameter missing or invalid" } }, statusCode: 400);

        GraphQLOperation operation;
        try { operation = GraphQLParser.Parse(text, body["variables"] as JsonObject); }
        catch (GraphQLSyntaxException e) { return Errors([new(e.Message, "parseError")], null); }
        var invalid = AdminQueryExecutor.Validate(operation);
        if (invalid.Count > 0) return Errors(invalid, null);

        var bucket = state.BucketOf(installation.App, installation.Shop);
        var requested = AdminQueryExecutor.RequestedCost(operation);
        if (requested > AdminQueryExecutor.MaxQueryCost)
            return Errors([new($"Query cost is {requested}, which exceeds the single query max cost limit ({AdminQueryExecutor.MaxQueryCost}).", "MAX_COST_EXCEEDED")], Cost(requested, null, bucket));
        if (!bucket.TryTake(requested))
        {
            state.Throttled.AddOrUpdate(shop, 1, (_, n) => n + 1);
            return Errors([new("Throttled", "THROTTLED")], Cost(requested, null, bucket));
        }
        var warnings = new List<string>();
        var data = new AdminQueryExecutor(installation.Shop).Execute(operation, warnings, out var actual);
        bucket.Refund(requested - actual);
        state.PointsCharged.AddOrUpdate(shop, actual, (_, n) => n + actual);
        var extensions = Cost(requested, actual, bucket);
        if (warnings.Count > 0) extensions["search"] = new JsonArray(warnings.Select(w => (JsonNode)new JsonObject { ["warnings"] = w }).ToArray());
        return Results.Json(new JsonObject { ["data"] = data, ["extensions"] = extensions });
    }

    private static JsonObject Cost(int requested, int? actual, CostBucket bucket) => new()
    {
        ["cost"] = new JsonObject
        {
            ["requestedQueryCost"] = requested, ["actualQueryCost"] = actual,
            ["throttleStatus"] = new JsonObject
            {
                ["maximumAvailable"] = (double)bucket.Plan.BucketSize, ["currentlyAvailable"] = (int)Math.Floor(bucket.Available), ["restoreRate"] = (double)bucket.Plan.RestoreRate,
            },
        },
    };

    private static IResult Errors(IEnumerable<GraphQLError> errors, JsonObject? extensions)
    {
        var answer = new JsonObject
        {
            ["errors"] = new JsonArray(errors.Select(e => (JsonNode)new JsonObject
            {
                ["message"] = e.Message,
                ["extensions"] = e.Code == "THROTTLED"
                    ? new JsonObject { ["code"] = e.Code, ["documentation"] = "https://shopify.dev/api/usage/rate-limits" }
                    : new JsonObject { ["code"] = e.Code },
            }).ToArray()),
        };
        if (extensions is not null) answer["extensions"] = extensions;
        return Results.Json(answer);
    }
}
