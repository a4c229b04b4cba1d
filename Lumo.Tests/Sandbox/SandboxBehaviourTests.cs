using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Lumo.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Lumo.Tests.Sandbox;

/// <summary>The simulators behave like the real APIs where our exactly-once and linking logic depends on it.</summary>
public sealed class SandboxBehaviourTests : IAsyncLifetime
{
    private SandboxTenant _tenant = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _tenant = await SandboxTenant.CreateAsync();
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _tenant.Sandbox.BaseUrl };
    }

    public Task DisposeAsync()
    {
        _http.Dispose();
        return Task.CompletedTask;
    }

    private HttpRequestMessage Klaviyo(HttpMethod method, string path, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Klaviyo-API-Key", _tenant.KlaviyoKey);
        request.Headers.Add("revision", "2026-07-15");
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/vnd.api+json");
        return request;
    }

    private static JsonObject Event(string email, string metric, string? uniqueId) => new()
    {
        ["type"] = "event",
        ["attributes"] = new JsonObject
        {
            ["properties"] = new JsonObject { ["Source"] = "test" },
            ["unique_id"] = uniqueId,
            ["metric"] = new JsonObject { ["data"] = new JsonObject { ["type"] = "metric", ["attributes"] = new JsonObject { ["name"] = metric } } },
            ["profile"] = new JsonObject { ["data"] = new JsonObject { ["type"] = "profile", ["attributes"] = new JsonObject { ["email"] = email } } },
        },
    };

    [Fact]
    public async Task RecordsAnEventOncePerProfileMetricAndUniqueId()
    {
        for (var i = 0; i < 3; i++)
        {
            var response = await _http.SendAsync(Klaviyo(HttpMethod.Post, "api/events", new JsonObject { ["data"] = Event("yui@example.com", "Followed LINE Account", "follow-1") }));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        await _http.SendAsync(Klaviyo(HttpMethod.Post, "api/events", new JsonObject { ["data"] = Event("yui@example.com", "Blocked LINE Account", "follow-1") }));

        Assert.Single(_tenant.Klaviyo.EventsOf("Followed LINE Account"));
        Assert.Single(_tenant.Klaviyo.EventsOf("Blocked LINE Account"));
        Assert.Equal(2, _tenant.Klaviyo.DuplicateEventsIgnored);
    }

    [Fact]
    public async Task RejectsABulkJobThatRepeatsAUniqueIdForOneProfileAndMetric()
    {
        var events = new JsonArray(Event("a@example.com", "Sent LINE Message", "m-1")["attributes"]!.DeepClone(), Event("a@example.com", "Sent LINE Message", "m-1")["attributes"]!.DeepClone());
        var body = new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["type"] = "event-bulk-create-job",
                ["attributes"] = new JsonObject
                {
                    ["events-bulk-create"] = new JsonObject
                    {
                        ["data"] = new JsonArray(new JsonObject
                        {
                            ["type"] = "event-bulk-create",
                            ["attributes"] = new JsonObject
                            {
                                ["profile"] = new JsonObject { ["data"] = new JsonObject { ["type"] = "profile", ["attributes"] = new JsonObject { ["email"] = "a@example.com" } } },
                                ["events"] = new JsonObject { ["data"] = new JsonArray(events.Select(e => (JsonNode)new JsonObject { ["type"] = "event", ["attributes"] = RemoveProfile(e!.DeepClone()) }).ToArray()) },
                            },
                        }),
                    },
                },
            },
        };

        var response = await _http.SendAsync(Klaviyo(HttpMethod.Post, "api/event-bulk-create-jobs", body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_tenant.Klaviyo.EventsOf("Sent LINE Message"));
    }

    private static JsonNode RemoveProfile(JsonNode attributes)
    {
        attributes.AsObject().Remove("profile");
        return attributes;
    }

    [Fact]
    public async Task RunsABulkProfileImportJobAndReportsPerProfileErrors()
    {
        var profiles = new JsonArray(
            new JsonObject { ["type"] = "profile", ["attributes"] = new JsonObject { ["email"] = "ok@example.com", ["properties"] = new JsonObject { ["LINE Follow Status"] = "friend" } } },
            new JsonObject { ["type"] = "profile", ["attributes"] = new JsonObject { ["phone_number"] = "090-1234" } });
        var body = new JsonObject { ["data"] = new JsonObject { ["type"] = "profile-bulk-import-job", ["attributes"] = new JsonObject { ["profiles"] = new JsonObject { ["data"] = profiles } } } };

        var response = await _http.SendAsync(Klaviyo(HttpMethod.Post, "api/profile-bulk-import-jobs", body));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["data"]!;
        Assert.Equal(1, job["attributes"]!["failed_count"]!.GetValue<int>());
        Assert.Equal("friend", _tenant.Klaviyo.FindByEmail("ok@example.com")!.Properties["LINE Follow Status"]!.GetValue<string>());
        Assert.DoesNotContain(_tenant.Sandbox.Violations.All, v => v.Caller == _tenant.Klaviyo.Id);
    }

    [Fact]
    public async Task ListsSegmentsAndTheirProfilesInSpecConformingPages()
    {
        var ids = Enumerable.Range(0, 120).Select(i =>
        {
            var profile = new SimulatedProfile(_tenant.Klaviyo.NewId()) { Email = $"s{i}@example.com" };
            _tenant.Klaviyo.Profiles[profile.Id] = profile;
            return profile.Id;
        }).ToList();
        _tenant.Klaviyo.Segments["SEG1"] = new ProfileGroup("SEG1", "LINE friends", ids);

        var segments = JsonNode.Parse(await (await _http.SendAsync(Klaviyo(HttpMethod.Get, "api/segments"))).Content.ReadAsStringAsync())!;
        var firstPage = JsonNode.Parse(await (await _http.SendAsync(Klaviyo(HttpMethod.Get, "api/segments/SEG1/profiles?page[size]=100"))).Content.ReadAsStringAsync())!;
        var next = firstPage["links"]!["next"]!.GetValue<string>();
        var secondPage = JsonNode.Parse(await (await _http.SendAsync(Klaviyo(HttpMethod.Get, next))).Content.ReadAsStringAsync())!;

        Assert.Equal("SEG1", segments["data"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(100, firstPage["data"]!.AsArray().Count);
        Assert.Equal(20, secondPage["data"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.SendAsync(Klaviyo(HttpMethod.Get, "api/segments/SEG1/profiles?page[size]=101"))).StatusCode);
        Assert.DoesNotContain(_tenant.Sandbox.Violations.All, v => v.Caller == _tenant.Klaviyo.Id);
    }

    [Fact]
    public async Task LineLoginIssuesAnIdTokenWhoseSubjectIsTheLineUser()
    {
        var login = new LoginChannel(SandboxTenant.Hex(5), SandboxTenant.Hex(16));
        _tenant.Sandbox.Line.LoginChannels[login.ChannelId] = login;
        var user = _tenant.AddFriend("Fumi");
        var verifier = SandboxTenant.Hex(32);
        var challenge = WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var authorize = QueryHelpers.AddQueryString("oauth2/v2.1/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "code", ["client_id"] = login.ChannelId, ["redirect_uri"] = "https://lumo.example/api/link/callback",
            ["state"] = "st-1", ["scope"] = "openid profile", ["nonce"] = "n-1", ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256", ["bot_prompt"] = "aggressive", ["sandbox_user"] = user.UserId,
        });

        var redirect = await _http.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        var query = QueryHelpers.ParseQuery(redirect.Headers.Location!.Query);
        Assert.Equal("st-1", query["state"].ToString());

        var token = await _http.PostAsync("oauth2/v2.1/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = query["code"].ToString(), ["redirect_uri"] = "https://lumo.example/api/link/callback",
            ["client_id"] = login.ChannelId, ["client_secret"] = login.ChannelSecret, ["code_verifier"] = verifier,
        }));
        var idToken = JsonNode.Parse(await token.Content.ReadAsStringAsync())!["id_token"]!.GetValue<string>();
        var verified = await _http.PostAsync("oauth2/v2.1/verify", new FormUrlEncodedContent(new Dictionary<string, string> { ["id_token"] = idToken, ["client_id"] = login.ChannelId, ["nonce"] = "n-1" }));
        var wrongNonce = await _http.PostAsync("oauth2/v2.1/verify", new FormUrlEncodedContent(new Dictionary<string, string> { ["id_token"] = idToken, ["client_id"] = login.ChannelId, ["nonce"] = "other" }));
        var replayedCode = await _http.PostAsync("oauth2/v2.1/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = query["code"].ToString(), ["redirect_uri"] = "https://lumo.example/api/link/callback",
            ["client_id"] = login.ChannelId, ["client_secret"] = login.ChannelSecret, ["code_verifier"] = verifier,
        }));

        Assert.Equal(user.UserId, JsonNode.Parse(await verified.Content.ReadAsStringAsync())!["sub"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, wrongNonce.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, replayedCode.StatusCode);
    }

    [Fact]
    public async Task SignsWebhooksOverTheRawBodyBytesAsLineDoes()
    {
        using var receiver = new Lumo.Tests.Infrastructure.WebhookReceiver();
        var events = new JsonArray(new JsonObject { ["type"] = "message", ["message"] = new JsonObject { ["type"] = "text", ["text"] = "絵文字 😀" } });
        var request = new { url = receiver.Url, events };

        var response = await _http.PostAsync($"sandbox/line/channels/{_tenant.Channel.ChannelId}/webhook",
            new StringContent(System.Text.Json.JsonSerializer.Serialize(request), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (body, signature) = await receiver.Received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var expected = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(_tenant.Channel.ChannelSecret), body));
        Assert.Equal(expected, signature);
        Assert.Contains("😀", Encoding.UTF8.GetString(body));
    }
}
