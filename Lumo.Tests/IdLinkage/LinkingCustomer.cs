using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Lumo.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;

namespace Lumo.Tests.IdLinkage;

/// <summary>
/// ID linkage set up on a scenario's account (a LINE Login channel in the sandbox, registered through the admin
/// API), and a customer's browser going through a linking URL: our landing, LINE Login (the sandbox, logging in
/// as a chosen LINE user), our callback.
/// </summary>
public sealed class LinkingCustomer
{
    private readonly WorkspaceScenario _scenario;
    private readonly HttpClient _browser;
    private readonly HttpClient _lineLogin = new(new HttpClientHandler { AllowAutoRedirect = false });

    private LinkingCustomer(WorkspaceScenario scenario, string? loginChannelId = null, string? loginChannelSecret = null)
    {
        LoginChannelId = loginChannelId ?? RandomNumberGenerator.GetInt32(1_000_000_000, int.MaxValue).ToString();
        LoginChannelSecret = loginChannelSecret ?? SandboxTenant.Hex(16);
        _scenario = scenario;
        _browser = scenario.App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
    }

    public string LoginChannelId { get; }
    public string LoginChannelSecret { get; }
    /// <summary>The Klaviyo segment (in the sandbox) whose members Lumo gives linking tokens.</summary>
    public string TokenSegmentId { get; } = "SEGTOKENS";

    /// <summary>The same shop, opened in another browser (no cookies of this one).</summary>
    public LinkingCustomer OtherBrowser() => new(_scenario, LoginChannelId, LoginChannelSecret);

    public static async Task<LinkingCustomer> SetUpAsync(WorkspaceScenario scenario, object? form = null, object? import = null)
    {
        var customer = new LinkingCustomer(scenario);
        scenario.Tenant.Sandbox.Line.LoginChannels[customer.LoginChannelId] = new LoginChannel(customer.LoginChannelId, customer.LoginChannelSecret);
        scenario.Tenant.Klaviyo.Segments[customer.TokenSegmentId] = new ProfileGroup(customer.TokenSegmentId, "Receives LINE linking URLs", []);
        var response = await scenario.Admin.PutAsJsonAsync($"{scenario.AccountPath()}/id-linkage",
            new { loginChannelId = customer.LoginChannelId, loginChannelSecret = customer.LoginChannelSecret, form, import, linkingTokens = new { segmentId = customer.TokenSegmentId } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return customer;
    }

    /// <summary>Opens a linking URL of ours; the answer is our redirect to LINE Login, or a page.</summary>
    public Task<HttpResponseMessage> OpenAsync(string url) => _browser.GetAsync(new Uri(url).PathAndQuery);

    /// <summary>Logs in to LINE (sandbox) as the user at the authorize URL our landing redirected to; returns our callback URL.</summary>
    public async Task<string> LogInToLineAsync(HttpResponseMessage landing, LineUser user)
    {
        Assert.Equal(HttpStatusCode.Redirect, landing.StatusCode);
        var authorize = QueryHelpers.AddQueryString(landing.Headers.Location!.ToString(), "sandbox_user", user.UserId);
        using var answer = await _lineLogin.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        return answer.Headers.Location!.ToString();
    }

    public Task<HttpResponseMessage> ReturnFromLineAsync(string callbackUrl) => OpenAsync(callbackUrl);

    /// <summary>The whole way: landing, LINE Login as the user, callback; returns the result page.</summary>
    public async Task<HttpResponseMessage> LinkAsync(string url, LineUser user) =>
        await ReturnFromLineAsync(await LogInToLineAsync(await OpenAsync(url), user));

    /// <summary>
    /// Puts the profiles in the linking-token segment and has Lumo run a token pass now; returns once Klaviyo (the
    /// sandbox) holds every one's token, as the merchant's template will render it.
    /// </summary>
    public async Task GiveLinkingTokensAsync(params SimulatedProfile[] profiles)
    {
        _scenario.Tenant.Klaviyo.Segments[TokenSegmentId].ProfileIds.AddRange(profiles.Select(p => p.Id));
        var run = await _scenario.Admin.PostAsync($"{_scenario.AccountPath()}/id-linkage/linking-tokens", null);
        Assert.Equal(HttpStatusCode.Accepted, run.StatusCode);
        await Eventually.MatchesAsync(() => Task.FromResult(profiles.All(p => TokenOf(p) is not null)), all => all, because: "every profile holds its linking token");
    }

    public static string? TokenOf(SimulatedProfile profile) => profile.Properties[TokenProperty]?.GetValue<string>();

    public const string TokenProperty = "LINE Linking Token";

    /// <summary>The customer's own linking URL: they hold their token, and Klaviyo renders it into the template.</summary>
    public async Task<string> OwnUrlAsync(JsonObject code, SimulatedProfile profile, string field = "linkingUrl")
    {
        if (TokenOf(profile) is null) await GiveLinkingTokensAsync(profile);
        return Rendered(code[field]!.GetValue<string>(), profile.Email, profile.PhoneNumber, TokenOf(profile));
    }

    public async Task<JsonObject> CreateQrCodeAsync(params string[] signals) => await CreateQrCodeAsync(signals, signedUrlsOnly: null);

    public async Task<JsonObject> CreateQrCodeAsync(string[] signals, bool? signedUrlsOnly)
    {
        var response = await _scenario.Admin.PostAsJsonAsync($"{_scenario.AccountPath()}/qr-codes", new { name = "Store counter", signals, signedUrlsOnly });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>
    /// A linking URL as Klaviyo renders it for one recipient: the merge variables filled in, URL-encoded; the linking
    /// token lookup renders <paramref name="token"/> (empty, as for a profile without the property, when null).
    /// </summary>
    public static string Rendered(string template, string? email = null, string? phone = null, string? token = null) =>
        Regex.Replace(template, @"\{\{ person\|lookup:'[^']+'\|default:''\|urlencode \}\}", Uri.EscapeDataString(token ?? ""))
            .Replace("{{ email|urlencode }}", Uri.EscapeDataString(email ?? ""))
            .Replace("{{ phone_number|urlencode }}", Uri.EscapeDataString(phone ?? ""));
}
