using System.Text.Json.Nodes;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Specs;

namespace Lumo.Sandbox.Klaviyo;

/// <summary>The Klaviyo API's auth (private key, revision header), published limits and JSON:API error shape.</summary>
public sealed class KlaviyoVendor(KlaviyoState state) : ISimulatedVendor
{
    // https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling (burst per second / steady per minute)
    private static readonly RateLimit Small = new("klaviyo:profiles", 75, 750);
    private static readonly RateLimit BulkProfiles = new("klaviyo:profile-bulk-import", 10, 150);
    private static readonly RateLimit Events = new("klaviyo:events", 350, 3_500);
    private static readonly RateLimit BulkEvents = new("klaviyo:event-bulk-create", 10, 150);
    private static readonly RateLimit Segments = new("klaviyo:segments", 75, 750);
    private static readonly RateLimit Forms = new("klaviyo:forms", 3, 60);
    private static readonly RateLimit Accounts = new("klaviyo:accounts", 1, 15);

    public string Name => "klaviyo";
    public bool Owns(PathString path) => path.StartsWithSegments("/api");
    public SpecDocument? Spec => SpecLibrary.KlaviyoApi;
    public string MediaType => "application/vnd.api+json";

    public string? Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            if (KlaviyoOAuthEndpoints.Authenticate(state.OAuth, header[7..]) is not { } access) return null;
            // OAuth apps get their own rate-limit quota per installed account.
            context.Items[SandboxItems.RateLimitKey] = $"{access.Grant.AccountId} app {access.Grant.ClientId}";
            return access.Grant.AccountId;
        }
        const string scheme = "Klaviyo-API-Key ";
        if (!header.StartsWith(scheme, StringComparison.Ordinal) || !state.AccountsByKey.TryGetValue(header[scheme.Length..], out var account))
            return null;
        return account.Id;
    }

    public RateLimit? LimitFor(string method, string pathTemplate) => pathTemplate switch
    {
        "/api/profile-bulk-import-jobs" or "/api/profile-bulk-import-jobs/{job_id}" or "/api/profile-bulk-import-jobs/{id}/import-errors" => BulkProfiles,
        "/api/events" => Events,
        "/api/event-bulk-create-jobs" => BulkEvents,
        "/api/segments" or "/api/lists" or "/api/segments/{id}/profiles" or "/api/lists/{id}/profiles" => Segments,
        "/api/forms" => Forms,
        "/api/accounts" => Accounts,
        _ => Small,
    };

    public IResult Error(int status, string message, IReadOnlyList<string>? details = null, TimeSpan? retryAfter = null)
    {
        var code = status switch
        {
            400 => "invalid", 401 => "not_authenticated", 403 => "permission_denied", 404 => "not_found",
            409 => "duplicate_profile", 413 => "request_too_large", 429 => "throttled", _ => "error",
        };
        var errors = (details is { Count: > 0 } ? details : [message]).Select(detail => (JsonNode)new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(),
            ["status"] = status,
            ["code"] = code,
            ["title"] = message,
            ["detail"] = detail,
            ["source"] = new JsonObject { ["pointer"] = "/data/" },
        }).ToArray();
        return JsonBodies.Json(new JsonObject { ["errors"] = new JsonArray(errors) }, status, MediaType, retryAfter);
    }

    /// <summary>A JSON:API success answer.</summary>
    public IResult Ok(JsonNode body, int status = 200) => JsonBodies.Json(body, status, MediaType);
}
