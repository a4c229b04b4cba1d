using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Http;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Lumo.Core.Klaviyo;

/// <summary>
/// Typed client for the Klaviyo API, revision <see cref="KlaviyoOptions.Revision"/>
/// (https://developers.klaviyo.com/en/reference/api_overview). Every failure surfaces as <see cref="KlaviyoApiException"/>.
/// </summary>
public sealed class KlaviyoClient(HttpClient http)
{
    private static readonly MediaTypeHeaderValue JsonApi = new("application/vnd.api+json");

    public async Task<KlaviyoAccount> GetAccountAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var document = await SendAsync(workspaceId, HttpMethod.Get, "api/accounts", null, cancellationToken);
        var first = document?["data"]?.AsArray().FirstOrDefault()
            ?? throw new KlaviyoApiException(200, "no_account", "Klaviyo returned no account for this API key.");
        return new KlaviyoAccount(
            first["id"]!.GetValue<string>(),
            first["attributes"]?["contact_information"]?["organization_name"]?.GetValue<string>());
    }

    /// <summary>Creates or updates a profile; returns its id (https://developers.klaviyo.com/en/reference/create_or_update_profile).</summary>
    public async Task<string> ImportProfileAsync(string workspaceId, KlaviyoProfileUpsert profile, CancellationToken cancellationToken)
    {
        var attributes = new JsonObject();
        if (profile.Email is not null) attributes["email"] = profile.Email;
        if (profile.PhoneNumber is not null) attributes["phone_number"] = profile.PhoneNumber;
        attributes["properties"] = JsonSerializer.SerializeToNode(profile.Properties);
        var data = new JsonObject { ["type"] = "profile", ["attributes"] = attributes };
        if (profile.Id is not null) data["id"] = profile.Id;

        var document = await SendAsync(workspaceId, HttpMethod.Post, "api/profile-import", new JsonObject { ["data"] = data }, cancellationToken);
        return document!["data"]!["id"]!.GetValue<string>();
    }

    /// <summary>Profiles matching a filter such as <c>equals(email,"a@b.c")</c>, page by page (≤ 100 a page).</summary>
    public async IAsyncEnumerable<KlaviyoProfile> GetProfilesAsync(string workspaceId, string? filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var url = "api/profiles?page[size]=100" + (filter is null ? "" : "&filter=" + Uri.EscapeDataString(filter));
        while (url is not null)
        {
            var document = await SendAsync(workspaceId, HttpMethod.Get, url, null, cancellationToken);
            foreach (var item in document?["data"]?.AsArray() ?? [])
                yield return ToProfile(item!);
            url = document?["links"]?["next"]?.GetValue<string>();
        }
    }

    /// <summary>
    /// One page (≤ 100) of a segment's members with their properties (https://developers.klaviyo.com/en/reference/get_profiles_for_segment);
    /// pass the previous page's <see cref="KlaviyoPage{T}.Next"/> link for the following page.
    /// </summary>
    public Task<KlaviyoPage<KlaviyoProfile>> GetSegmentProfilesPageAsync(string workspaceId, string segmentId, string? next, CancellationToken cancellationToken) =>
        GetGroupProfilesPageAsync(workspaceId, new KlaviyoGroup(KlaviyoGroupKind.Segment, segmentId), next, cancellationToken);

    /// <summary>
    /// One page (≤ 100) of a list's or segment's members (https://developers.klaviyo.com/en/reference/get_profiles_for_list,
    /// …/get_profiles_for_segment); 404 (as <see cref="KlaviyoApiException"/>) when the account has no such list or segment.
    /// </summary>
    public async Task<KlaviyoPage<KlaviyoProfile>> GetGroupProfilesPageAsync(string workspaceId, KlaviyoGroup group, string? next, CancellationToken cancellationToken,
        int pageSize = 100)
    {
        var collection = group.Kind == KlaviyoGroupKind.List ? "lists" : "segments";
        var document = await SendAsync(workspaceId, HttpMethod.Get, next ?? $"api/{collection}/{Uri.EscapeDataString(group.Id)}/profiles?page[size]={pageSize}", null,
            cancellationToken);
        return new KlaviyoPage<KlaviyoProfile>((document?["data"]?.AsArray() ?? []).Select(item => ToProfile(item!)).ToList(),
            document?["links"]?["next"]?.GetValue<string>());
    }

    /// <summary>The profiles with the given ids (at most 100), with their properties; ids Klaviyo does not know are left out.</summary>
    public async Task<List<KlaviyoProfile>> GetProfilesByIdAsync(string workspaceId, IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count is 0 or > 100) throw new ArgumentOutOfRangeException(nameof(ids), "Between 1 and 100 ids per request.");
        var filter = $"any(id,[{string.Join(',', ids.Select(id => $"\"{id}\""))}])";
        var document = await SendAsync(workspaceId, HttpMethod.Get, "api/profiles?page[size]=100&filter=" + Uri.EscapeDataString(filter), null, cancellationToken);
        return (document?["data"]?.AsArray() ?? []).Select(item => ToProfile(item!)).ToList();
    }

    /// <summary>
    /// One page (≤ 100) of the account's profiles (https://developers.klaviyo.com/en/reference/get_profiles), all of them
    /// or those updated after <paramref name="updatedAfter"/>; pass the previous page's <see cref="KlaviyoPage{T}.Next"/> link for the following page.
    /// </summary>
    public async Task<KlaviyoPage<KlaviyoProfile>> GetProfilesPageAsync(string workspaceId, DateTimeOffset? updatedAfter, string? next, CancellationToken cancellationToken)
    {
        var filter = updatedAfter is { } since ? "&filter=" + Uri.EscapeDataString($"greater-than(updated,{since.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ})") : "";
        var document = await SendAsync(workspaceId, HttpMethod.Get, next ?? "api/profiles?page[size]=100" + filter, null, cancellationToken);
        return new KlaviyoPage<KlaviyoProfile>((document?["data"]?.AsArray() ?? []).Select(item => ToProfile(item!)).ToList(),
            document?["links"]?["next"]?.GetValue<string>());
    }

    /// <summary>The account's sign-up forms (https://developers.klaviyo.com/en/reference/get_forms).</summary>
    public async Task<List<KlaviyoForm>> GetFormsAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var forms = new List<KlaviyoForm>();
        for (string? url = "api/forms"; url is not null;)
        {
            var document = await SendAsync(workspaceId, HttpMethod.Get, url, null, cancellationToken);
            forms.AddRange((document?["data"]?.AsArray() ?? []).Select(item => new KlaviyoForm(item!["id"]!.GetValue<string>(),
                item["attributes"]?["name"]?.GetValue<string>() ?? "", item["attributes"]?["status"]?.GetValue<string>() ?? "")));
            url = document?["links"]?["next"]?.GetValue<string>();
        }
        return forms;
    }

    /// <summary>
    /// Sends up to 1,000 events (≤ 5 MB) as one Bulk Create Events job (https://developers.klaviyo.com/en/reference/bulk_create_events),
    /// grouped by profile. Not retried inside: the exporter owns retries, rate limiting and parking.
    /// </summary>
    public async Task CreateEventsInBulkAsync(string workspaceId, IReadOnlyList<KlaviyoEvents.KlaviyoEvent> events, CancellationToken cancellationToken)
    {
        var entries = events.GroupBy(e => e.ProfileId).Select(group => (JsonNode)new JsonObject
        {
            ["type"] = "event-bulk-create",
            ["attributes"] = new JsonObject
            {
                ["profile"] = new JsonObject { ["data"] = new JsonObject { ["type"] = "profile", ["id"] = group.Key, ["attributes"] = new JsonObject() } },
                ["events"] = new JsonObject
                {
                    ["data"] = new JsonArray(group.Select(e => (JsonNode)new JsonObject
                    {
                        ["type"] = "event",
                        ["attributes"] = new JsonObject
                        {
                            ["properties"] = e.Properties.DeepClone(),
                            ["time"] = e.Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                            ["unique_id"] = e.UniqueId,
                            ["metric"] = new JsonObject { ["data"] = new JsonObject { ["type"] = "metric", ["attributes"] = new JsonObject { ["name"] = e.Metric } } },
                        },
                    }).ToArray()),
                },
            },
        }).ToArray();
        var body = new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["type"] = "event-bulk-create-job",
                ["attributes"] = new JsonObject { ["events-bulk-create"] = new JsonObject { ["data"] = new JsonArray(entries) } },
            },
        };
        await SendAsync(workspaceId, HttpMethod.Post, "api/event-bulk-create-jobs", body, cancellationToken, retried: false);
    }

    /// <summary>
    /// Starts a bulk profile import job (≤ 10,000 profiles, ≤ 5 MB; https://developers.klaviyo.com/en/reference/bulk_import_profiles)
    /// and returns its id.
    /// </summary>
    public async Task<string> CreateProfileImportJobAsync(string workspaceId, IReadOnlyList<KlaviyoProfileUpsert> profiles, CancellationToken cancellationToken)
    {
        var data = new JsonArray(profiles.Select(p =>
        {
            var attributes = new JsonObject { ["properties"] = JsonSerializer.SerializeToNode(p.Properties) };
            if (p.Email is not null) attributes["email"] = p.Email;
            if (p.PhoneNumber is not null) attributes["phone_number"] = p.PhoneNumber;
            var profile = new JsonObject { ["type"] = "profile", ["attributes"] = attributes };
            if (p.Id is not null) profile["id"] = p.Id;
            return (JsonNode)profile;
        }).ToArray());
        var body = new JsonObject
        {
            ["data"] = new JsonObject { ["type"] = "profile-bulk-import-job", ["attributes"] = new JsonObject { ["profiles"] = new JsonObject { ["data"] = data } } },
        };
        var document = await SendAsync(workspaceId, HttpMethod.Post, "api/profile-bulk-import-jobs", body, cancellationToken);
        return document!["data"]!["id"]!.GetValue<string>();
    }

    /// <summary>Status and counts of a bulk profile import job.</summary>
    public async Task<KlaviyoImportJob> GetProfileImportJobAsync(string workspaceId, string jobId, CancellationToken cancellationToken)
    {
        var document = await SendAsync(workspaceId, HttpMethod.Get, $"api/profile-bulk-import-jobs/{Uri.EscapeDataString(jobId)}", null, cancellationToken);
        var attributes = document!["data"]!["attributes"]!;
        return new KlaviyoImportJob(jobId, attributes["status"]!.GetValue<string>(), attributes["total_count"]?.GetValue<int>() ?? 0,
            attributes["completed_count"]?.GetValue<int>() ?? 0, attributes["failed_count"]?.GetValue<int>() ?? 0);
    }

    /// <summary>The per-profile errors of a bulk profile import job.</summary>
    public async Task<List<string>> GetImportErrorsAsync(string workspaceId, string jobId, CancellationToken cancellationToken)
    {
        var document = await SendAsync(workspaceId, HttpMethod.Get, $"api/profile-bulk-import-jobs/{Uri.EscapeDataString(jobId)}/import-errors", null, cancellationToken);
        return (document?["data"]?.AsArray() ?? []).Select(e => e?["attributes"]?["detail"]?.GetValue<string>() ?? "unknown error").ToList();
    }

    private static KlaviyoProfile ToProfile(JsonNode item)
    {
        var attributes = item["attributes"];
        var properties = attributes?["properties"]?.AsObject().ToDictionary(p => p.Key, p => (object?)p.Value?.ToJsonString())
                         ?? new Dictionary<string, object?>();
        return new KlaviyoProfile(item["id"]!.GetValue<string>(), attributes?["email"]?.GetValue<string>(),
            attributes?["phone_number"]?.GetValue<string>(), properties,
            DateTimeOffset.TryParse(attributes?["created"]?.GetValue<string>(), out var created) ? created : null,
            DateTimeOffset.TryParse(attributes?["updated"]?.GetValue<string>(), out var updated) ? updated : null, attributes as JsonObject);
    }

    private async Task<JsonNode?> SendAsync(string workspaceId, HttpMethod method, string url, JsonNode? body, CancellationToken cancellationToken, bool retried = true)
    {
        // Paging links come back from Klaviyo and may travel through queue messages: an absolute one must point at
        // Klaviyo, or the workspace's key would go wherever a tampered message says.
        if (Uri.TryCreate(url, UriKind.Absolute, out var absolute) && http.BaseAddress is { } home
            && (absolute.Scheme != home.Scheme || !string.Equals(absolute.Authority, home.Authority, StringComparison.OrdinalIgnoreCase)))
            throw new KlaviyoApiException(400, "foreign_link", $"Refused to follow a link outside the Klaviyo API ({absolute.GetLeftPart(UriPartial.Authority)}).");
        using var request = new HttpRequestMessage(method, url);
        request.Options.Set(KlaviyoAuthHandler.WorkspaceKey, workspaceId);
        if (!retried) request.Options.Set(ResilienceDefaults.NoRetry, true);
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8) { Headers = { ContentType = JsonApi } };
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or BrokenCircuitException or TimeoutRejectedException
                                   || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new KlaviyoApiException(0, "no_answer", $"Klaviyo did not answer: {e.Message}", inner: e);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonNode? document = null;
            try { document = text.Length > 0 ? JsonNode.Parse(text) : null; }
            catch (JsonException) { /* a proxy's HTML error page; the status says enough */ }
            if (response.IsSuccessStatusCode) return document;
            var error = document?["errors"]?.AsArray().FirstOrDefault();
            throw new KlaviyoApiException((int)response.StatusCode,
                error?["code"]?.GetValue<string>(),
                error?["detail"]?.GetValue<string>() ?? error?["title"]?.GetValue<string>() ?? response.ReasonPhrase ?? "Klaviyo API error",
                VendorApiException.ReadRetryAfter(response));
        }
    }
}
