using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Connections;
using Lumo.Core.Klaviyo;
using Lumo.Core.Secrets;
using Lumo.Core.SyncData;
using Lumo.Core.Workspaces;
using Lumo.Sandbox.Klaviyo;
using Lumo.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using static Lumo.Tests.Infrastructure.LineWebhookSender;

namespace Lumo.Tests.Connections;

/// <summary>
/// Connecting Klaviyo as an app (OAuth with PKCE) against the sandbox's OAuth endpoints: Klaviyo calls carry the app's
/// token instead of the private key; forged, replayed and denied callbacks change nothing; an expired token is refreshed
/// once for many concurrent calls; a revoked grant means needs-reconnect with a reconnect URL, nothing parked, and
/// reconnecting resumes the work; disconnecting revokes the grant.
/// </summary>
public sealed class KlaviyoAppConnectionTests : IAsyncLifetime
{
    // Each test its own app, so the sandbox's per-app counts are this test's alone.
    private readonly string ClientId = "lumo-test-" + SandboxTenant.Hex(4);
    private const string ClientSecret = "app-secret-0123456789";
    private WorkspaceScenario _scenario = null!;
    private HttpClient _app = null!;
    private HttpClient _klaviyo = null!;

    private Dictionary<string, string?> AppSettings => new() { ["Lumo:Klaviyo:OAuthClientId"] = ClientId, ["Lumo:Klaviyo:OAuthClientSecret"] = ClientSecret };

    public async Task InitializeAsync()
    {
        _scenario = await WorkspaceScenario.StartAsync(settings: AppSettings);
        Sandbox.OAuth.Apps[ClientId] = new OAuthApp(ClientId, ClientSecret, ["http://localhost/api/klaviyo/oauth/callback"]);
        _app = _scenario.App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        _klaviyo = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _scenario.Tenant.Sandbox.BaseUrl };
    }

    public async Task DisposeAsync()
    {
        _klaviyo.Dispose();
        await _scenario.DisposeAsync();
    }

    private KlaviyoState Sandbox => _scenario.Tenant.Sandbox.Klaviyo;
    private string WorkspacePath => $"/api/manage/workspaces/{_scenario.WorkspaceId}";
    private long TokenRequests(string grantType) => Sandbox.OAuth.TokenRequests.GetValueOrDefault($"{grantType}:{ClientId}");

    // The admin starts, a Klaviyo administrator decides on the consent screen; returns where Klaviyo sends the browser.
    private Task<Uri> ConsentAsync(string decision) => ConsentAsync(_scenario, decision);

    private async Task<Uri> ConsentAsync(WorkspaceScenario scenario, string decision, string? klaviyoAccountId = null)
    {
        var start = await scenario.Admin.PostAsync($"/api/manage/workspaces/{scenario.WorkspaceId}/klaviyo/app", null);
        Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        var authorize = new Uri((await start.Content.ReadFromJsonAsync<JsonObject>())!["authorizeUrl"]!.GetValue<string>());
        var query = System.Web.HttpUtility.ParseQueryString(authorize.Query);
        Assert.Equal(("S256", ClientId), (query["code_challenge_method"], query["client_id"]));
        var form = query.AllKeys.ToDictionary(k => k!, k => query[k]!);
        form["account_id"] = klaviyoAccountId ?? scenario.Tenant.Klaviyo.Id;
        form["decision"] = decision;
        var answer = await _klaviyo.PostAsync("/oauth/authorize", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        return answer.Headers.Location!;
    }

    private async Task<HttpResponseMessage> CallbackAsync(Uri location) => await _app.GetAsync(location.PathAndQuery);

    private async Task ConnectAsync()
    {
        var callback = await CallbackAsync(await ConsentAsync("allow"));
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal($"/api/console/w/{_scenario.WorkspaceId}/dashboard", callback.Headers.Location!.ToString());
        await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>($"{WorkspacePath}/dashboard"),
            d => d!["status"]!["health"]!.GetValue<string>() == "healthy" && d["klaviyo"]!["connectedWith"]!.GetValue<string>() == "oauth", because: "the app's connection is verified");
    }

    [Fact]
    public async Task ConnectsThroughTheAppAndKlaviyoCallsCarryTheAppsTokenInsteadOfTheKey()
    {
        await ConnectAsync();
        Sandbox.ReplaceKey(_scenario.Tenant.Klaviyo, "pk_" + SandboxTenant.Hex(16)); // the old private key no longer works anywhere

        var (_, profile) = await _scenario.LinkedFriendAsync("Appy");

        await Eventually.MatchesAsync(() => Task.FromResult(profile.Properties.ToJsonString()), p => p.Contains("\"LINE Consent\":\"granted\""), because: "the app writes the properties");
        Assert.Null(SecretNames.InUse(await _scenario.App.Service<ISecretStore>().GetIfExistsAsync(SecretNames.KlaviyoApiKey(_scenario.WorkspaceId))));
        Assert.Equal(1, TokenRequests("authorization_code"));
        var dashboard = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{WorkspacePath}/dashboard"))!;
        Assert.Equal(_scenario.Tenant.Klaviyo.Id, dashboard["klaviyo"]!["accountId"]!.GetValue<string>());
        Assert.Null(dashboard["klaviyo"]!["reconnectUrl"]);
    }

    [Fact]
    public async Task DeniedForgedAndReplayedCallbacksAnswer400AndChangeNothing()
    {
        var denied = await CallbackAsync(await ConsentAsync("deny"));
        var forged = await _app.GetAsync("/api/klaviyo/oauth/callback?code=abc&state=" + SandboxTenant.Hex(32));
        var approved = await ConsentAsync("allow");

        Assert.Equal(HttpStatusCode.BadRequest, denied.StatusCode);
        Assert.Contains("denied", await denied.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        var workspace = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{WorkspacePath}/dashboard"))!;
        Assert.Equal("private-api-key", workspace["klaviyo"]!["connectedWith"]!.GetValue<string>());
        Assert.NotNull(await _scenario.App.Service<ISecretStore>().GetIfExistsAsync(SecretNames.KlaviyoApiKey(_scenario.WorkspaceId)));
        Assert.Equal(0, TokenRequests("authorization_code"));

        Assert.Equal(HttpStatusCode.Redirect, (await CallbackAsync(approved)).StatusCode);
        var replayed = await CallbackAsync(approved);
        Assert.Equal(HttpStatusCode.BadRequest, replayed.StatusCode);
        Assert.Equal(1, TokenRequests("authorization_code")); // the replay never reached Klaviyo
    }

    [Fact]
    public async Task AnExpiredAccessTokenIsRefreshedOnceForManyConcurrentCalls()
    {
        await ConnectAsync();
        var profile = _scenario.NewKlaviyoProfile("concurrent@example.com");
        Sandbox.OAuth.ExpireAccessTokens(_scenario.Tenant.Klaviyo.Id); // an hour has passed

        var klaviyo = _scenario.App.Service<KlaviyoClient>();
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => klaviyo.GetProfilesByIdAsync(_scenario.WorkspaceId, [profile.Id], default)));

        Assert.All(answers, found => Assert.Equal(profile.Id, Assert.Single(found).Id));
        Assert.Equal(1, TokenRequests("refresh_token"));
        var grant = (await _scenario.App.Service<KlaviyoOAuthTokens>().GetGrantAsync(_scenario.WorkspaceId, default, latest: true))!;
        Assert.Contains(Sandbox.OAuth.GrantsByRefreshToken.Values, g => g.RefreshToken == grant.RefreshToken && !g.Revoked); // the rotated refresh token was stored
    }

    [Fact]
    public async Task ARevokedGrantMeansNeedsReconnectWithAReconnectUrlNothingParkedAndReconnectingResumes()
    {
        await ConnectAsync();
        var (user, profile) = await _scenario.LinkedFriendAsync("Revoked");
        Sandbox.OAuth.Uninstall(_scenario.Tenant.Klaviyo.Id);
        Sandbox.OAuth.ExpireAccessTokens(_scenario.Tenant.Klaviyo.Id);

        await _scenario.Client.PostWebhookAsync(_scenario.WorkspaceId, _scenario.AccountId, _scenario.Tenant.Channel, Unfollow(user.UserId, DateTimeOffset.UtcNow));
        var paused = await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>($"{WorkspacePath}/dashboard"),
            d => d!["status"]!["health"]!.GetValue<string>() == "needsReconnect", because: "invalid_grant pauses the connection");

        Assert.Equal($"/api/console/w/{_scenario.WorkspaceId}/klaviyo/connect", paused!["klaviyo"]!["reconnectUrl"]!.GetValue<string>());
        Assert.Equal(0, paused["status"]!["parkedEvents"]!.GetValue<int>());
        Assert.Empty(_scenario.Tenant.Klaviyo.EventsOf("Blocked LINE Account"));

        await ConnectAsync();
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf("Blocked LINE Account").Count), n => n == 1,
            because: "the event waited in the outbox and goes out once reconnected");
        Assert.Equal(profile.Id, _scenario.Tenant.Klaviyo.EventsOf("Blocked LINE Account")[0].ProfileId);
    }

    [Fact]
    public async Task DisconnectingRevokesTheGrantPausesKlaviyoWorkAndDeletesTheSyncHistory()
    {
        await ConnectAsync();
        await _scenario.App.Service<SyncRunHistory>().SaveAsync(new SyncRun
        {
            Id = SyncRunHistory.NewRunId(DateTimeOffset.UtcNow), WorkspaceId = _scenario.WorkspaceId, AccountId = _scenario.AccountId, Kind = SyncKinds.ConsentRefresh,
            StartedAt = DateTimeOffset.UtcNow, Status = SyncRunStatus.Completed,
        }, default);

        var disconnected = await _scenario.Admin.DeleteAsync($"{WorkspacePath}/klaviyo/app");
        var again = await _scenario.Admin.DeleteAsync($"{WorkspacePath}/klaviyo/app");

        Assert.Equal(HttpStatusCode.NoContent, disconnected.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(1, Sandbox.OAuth.Revocations.GetValueOrDefault(_scenario.Tenant.Klaviyo.Id));
        Assert.All(Sandbox.OAuth.GrantsOf(_scenario.Tenant.Klaviyo.Id), g => Assert.True(g.Revoked));
        var dashboard = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{WorkspacePath}/dashboard"))!;
        Assert.Equal("needsReconnect", dashboard["status"]!["health"]!.GetValue<string>());
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/sync-runs"))!);
    }

    [Fact]
    public async Task ATokenThatExpiresMidResyncIsRefreshedWithoutLosingAPage()
    {
        await using var quiet = await WorkspaceScenario.StartAsync(runTriggers: false, settings: AppSettings);
        var browser = quiet.App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync((await ConsentAsync(quiet, "allow")).PathAndQuery)).StatusCode);
        await quiet.App.Service<ConnectionVerifier>().VerifyAsync(new VerifyConnectionsRequest(quiet.WorkspaceId, null), default);
        foreach (var i in Enumerable.Range(0, 150)) quiet.NewKlaviyoProfile($"resync{i}@example.com");
        var account = (await quiet.App.Service<WorkspaceStore>().GetAccountIfExistsAsync(quiet.WorkspaceId, quiet.AccountId, default))!;
        var pull = quiet.App.Service<KlaviyoProfilePull>();
        pull.RunBudget = TimeSpan.Zero; // one page, then hand over
        var (queued, _) = await pull.StartResyncAsync(account, default);
        var request = new KlaviyoPullRequest(quiet.WorkspaceId, quiet.AccountId, queued.Id);

        var firstPage = await pull.RunAsync(request, default);
        Sandbox.OAuth.ExpireAccessTokens(quiet.Tenant.Klaviyo.Id); // the hour runs out between two pages
        pull.RunBudget = TimeSpan.FromMinutes(8);
        var done = await pull.RunAsync(request, default);

        Assert.Equal(100, firstPage!.Profiles);
        Assert.Equal((SyncRunStatus.Completed, 150, 0), (done!.Status, done.Profiles, done.Failures));
        Assert.Equal(1, TokenRequests("refresh_token"));
        Assert.Equal(ConnectionStatus.Verified, (await quiet.App.Service<WorkspaceStore>().GetWorkspaceIfExistsAsync(quiet.WorkspaceId, default))!.Klaviyo.Status);
    }

    [Fact]
    public async Task AGrantRevokedMidPullMeansNeedsReconnectAndAfterReconnectingThePullGoesOnWithNothingLost()
    {
        await using var quiet = await WorkspaceScenario.StartAsync(runTriggers: false, settings: AppSettings);
        var browser = quiet.App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        async Task ConnectQuietAsync()
        {
            Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync((await ConsentAsync(quiet, "allow")).PathAndQuery)).StatusCode);
            await quiet.App.Service<ConnectionVerifier>().VerifyAsync(new VerifyConnectionsRequest(quiet.WorkspaceId, null), default);
        }
        await ConnectQuietAsync();
        var last = Enumerable.Range(0, 130).Select(i => quiet.NewKlaviyoProfile($"pull{i}@example.com")).ToList()[^1]; // on the second page
        var user = quiet.Tenant.AddFriend("Late");
        await quiet.App.Service<Lumo.Core.Friends.LineFriendStore>().LinkAsync(quiet.WorkspaceId, quiet.AccountId, user.UserId, last.Id, "admin", DateTimeOffset.UtcNow, "Late", default);
        last.Properties["LINE User ID"] = user.UserId;
        var workspaces = quiet.App.Service<WorkspaceStore>();
        await workspaces.UpdateAccountAsync((await workspaces.GetAccountIfExistsAsync(quiet.WorkspaceId, quiet.AccountId, default))! with { PulledFields = ["email"] }, default);
        var pull = quiet.App.Service<KlaviyoProfilePull>();
        pull.RunBudget = TimeSpan.Zero; // one page per invocation

        var firstPage = await pull.RunAsync(new KlaviyoPullRequest(quiet.WorkspaceId, quiet.AccountId), default);
        Sandbox.OAuth.Uninstall(quiet.Tenant.Klaviyo.Id); // the Klaviyo administrator removes the app
        Sandbox.OAuth.ExpireAccessTokens(quiet.Tenant.Klaviyo.Id);
        var paused = await pull.RunAsync(new KlaviyoPullRequest(quiet.WorkspaceId, quiet.AccountId), default);
        var dashboard = (await quiet.Admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{quiet.WorkspaceId}/dashboard"))!;
        await ConnectQuietAsync();
        pull.RunBudget = TimeSpan.FromMinutes(8);
        var resumed = await pull.RunAsync(new KlaviyoPullRequest(quiet.WorkspaceId, quiet.AccountId), default);

        Assert.Equal((SyncRunStatus.Running, 100), (firstPage!.Status, firstPage.Profiles));
        Assert.Equal((SyncRunStatus.Paused, 100), (paused!.Status, paused.Profiles));
        Assert.Equal(("needsReconnect", 0), (dashboard["status"]!["health"]!.GetValue<string>(), dashboard["status"]!["parkedWork"]!.GetValue<int>()));
        Assert.NotNull(dashboard["klaviyo"]!["reconnectUrl"]);
        Assert.Equal((firstPage.Id, SyncRunStatus.Completed, 130), (resumed!.Id, resumed.Status, resumed.Profiles));
        var friend = (await quiet.Admin.GetFromJsonAsync<JsonObject>($"{quiet.AccountPath()}/friends/{user.UserId}"))!;
        Assert.Equal(last.Email, friend["klaviyoFields"]!["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheAppsCallsCountAgainstTheirOwnRateLimitQuotaNotThePrivateKeys()
    {
        await ConnectAsync();
        var limiter = _scenario.Tenant.Sandbox.Limiter;
        limiter.Override(new Lumo.Sandbox.Infrastructure.RateLimit("klaviyo:profiles", 1, 1), caller: _scenario.Tenant.Klaviyo.Id); // the private key's quota (this test's account only)
        var token = (await _scenario.App.Service<KlaviyoOAuthTokens>().GetGrantAsync(_scenario.WorkspaceId, default, latest: true))!.AccessToken;
        async Task<HttpStatusCode> GetProfilesAsync(string authorization)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/api/profiles?page[size]=1");
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            request.Headers.Add("revision", KlaviyoOptions.Revision);
            return (await _klaviyo.SendAsync(request)).StatusCode;
        }

        var byKey = new[] { await GetProfilesAsync("Klaviyo-API-Key " + _scenario.Tenant.Klaviyo.ApiKey), await GetProfilesAsync("Klaviyo-API-Key " + _scenario.Tenant.Klaviyo.ApiKey) };
        var byApp = new[] { await GetProfilesAsync("Bearer " + token), await GetProfilesAsync("Bearer " + token) };

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], byKey);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK], byApp);
    }

    [Fact]
    public async Task AnApprovalForAnotherKlaviyoAccountIsRefusedRevokedAndChangesNothing()
    {
        await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>($"{WorkspacePath}/dashboard"),
            d => d!["klaviyo"]!["accountId"] is not null, because: "the private key's check learns the workspace's Klaviyo account");
        var other = Sandbox.AddAccount("K" + SandboxTenant.Hex(5).ToUpperInvariant(), "pk_" + SandboxTenant.Hex(16), "Someone else's store");

        var callback = await CallbackAsync(await ConsentAsync(_scenario, "allow", other.Id));

        Assert.Equal(HttpStatusCode.BadRequest, callback.StatusCode);
        Assert.Contains(_scenario.Tenant.Klaviyo.Id, await callback.Content.ReadAsStringAsync());
        Assert.Equal(1, Sandbox.OAuth.Revocations.GetValueOrDefault(other.Id));
        var dashboard = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{WorkspacePath}/dashboard"))!;
        Assert.Equal(("private-api-key", _scenario.Tenant.Klaviyo.Id), (dashboard["klaviyo"]!["connectedWith"]!.GetValue<string>(), dashboard["klaviyo"]!["accountId"]!.GetValue<string>()));
        Assert.NotNull(SecretNames.InUse(await _scenario.App.Service<ISecretStore>().GetIfExistsAsync(SecretNames.KlaviyoApiKey(_scenario.WorkspaceId))));
    }
}
