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

    private static KlaviyoProfile ToProfile(JsonNode item)
    {
        var attributes = item["attributes"];
        var properties = attributes?["properties"]?.AsObject().ToDictionary(p => p.Key, p => (object?)p.Value?.ToJsonString())
                         ?? new Dictionary<string, object?>();
        return new KlaviyoProfile(item["id"]!.GetValue<string>(), attributes?["email"]?.GetValue<string>(),
            attributes?["phone_number"]?.GetValue<string>(), properties);
    }

    private async Task<JsonNode?> SendAsync(string workspaceId, HttpMethod method, string url, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Options.Set(KlaviyoAuthHandler.WorkspaceKey, workspaceId);
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
