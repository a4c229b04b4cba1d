using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Http;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Lumo.Core.Shopify;

/// <summary>
/// Shopify's OAuth token exchange and GraphQL Admin API (https://shopify.dev/docs/api/admin-graphql), each store at its
/// own host. Queries are paced by <see cref="ShopifyCostPacer"/> and, when answered <c>THROTTLED</c> anyway, sent again
/// once the points they asked for are restored (a few times, then the caller's queue retries later). Failures are
/// <see cref="ShopifyApiException"/>.
/// </summary>
public sealed class ShopifyClient(HttpClient http, IOptions<ShopifyOptions> options, ShopifyCostPacer pacer, TimeProvider clock)
{
    public static readonly HttpRequestOptionsKey<string> ShopKey = new("Lumo.Shopify.Shop");
    private const int ThrottledRetries = 5;

    /// <summary>Exchanges an install's authorization code for the store's offline access token and the scopes granted. Sent once: a code works once.</summary>
    public async Task<(string AccessToken, string Scope)> ExchangeCodeAsync(ShopDomain shop, string code, CancellationToken cancellationToken)
    {
        var app = options.Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.StoreUrl(shop, "admin/oauth/access_token"))
        {
            Content = JsonContent.Create(new JsonObject { ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret, ["code"] = code }),
        };
        request.Options.Set(ResilienceDefaults.NoRetry, true);
        request.Options.Set(ShopKey, shop.Value);
        using var response = await SendAsync(request, cancellationToken);
        var body = await ReadAsync(response, cancellationToken);
        if (!response.IsSuccessStatusCode || body?["access_token"] is not JsonValue token)
            throw new ShopifyApiException((int)response.StatusCode, body?["error"]?.ToString(), $"Shopify refused the authorization code: {body?["error_description"] ?? body?["errors"]}");
        return (token.GetValue<string>(), body["scope"]?.GetValue<string>() ?? "");
    }

    /// <summary>Runs a query and returns its <c>data</c>; <paramref name="expectedCost"/> is its requested cost, for pacing.</summary>
    public async Task<JsonObject> QueryAsync(ShopDomain shop, string accessToken, string query, JsonObject? variables, int expectedCost, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (pacer.WaitFor(shop, expectedCost) is { } wait && wait > TimeSpan.Zero) await Task.Delay(wait, clock, cancellationToken);
            using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.StoreUrl(shop, $"admin/api/{ShopifyOptions.ApiVersion}/graphql.json"))
            {
                Content = JsonContent.Create(new JsonObject { ["query"] = query, ["variables"] = variables?.DeepClone() }),
            };
            request.Headers.Add("X-Shopify-Access-Token", accessToken);
            request.Options.Set(ShopKey, shop.Value);
            using var response = await SendAsync(request, cancellationToken);
            var body = await ReadAsync(response, cancellationToken);
            if (!response.IsSuccessStatusCode)
                throw new ShopifyApiException((int)response.StatusCode, null, $"Shopify answered {(int)response.StatusCode}: {body?["errors"]}", VendorApiException.ReadRetryAfter(response));
            var status = body?["extensions"]?["cost"]?["throttleStatus"];
            if (status is not null)
                pacer.Report(shop, status["currentlyAvailable"]!.GetValue<double>(), status["maximumAvailable"]!.GetValue<double>(), status["restoreRate"]!.GetValue<double>());
            if (body?["errors"] is JsonArray { Count: > 0 } errors)
            {
                var code = errors[0]?["extensions"]?["code"]?.GetValue<string>();
                if (code == "THROTTLED" && attempt < ThrottledRetries) continue; // the pacer now knows how long to wait
                throw new ShopifyApiException(200, code, $"Shopify refused the query: {errors[0]?["message"]}", code == "THROTTLED" ? pacer.WaitFor(shop, expectedCost) : null);
            }
            return body?["data"] as JsonObject ?? throw new ShopifyApiException(200, null, "Shopify's answer has no data.");
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or BrokenCircuitException or TimeoutRejectedException
                                   || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ShopifyApiException(0, null, $"Shopify did not answer: {e.Message}", inner: e);
        }
    }

    private static async Task<JsonObject?> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or NotSupportedException)
        {
            return null; // not JSON: the status says what happened
        }
    }
}
