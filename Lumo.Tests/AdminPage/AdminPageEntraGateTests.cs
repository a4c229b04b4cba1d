using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.AdminPage;

/// <summary>
/// The optional second gate: with App Service Authentication (Entra ID) in front, the admin page answers only requests
/// the platform signed in (it sets the X-MS-CLIENT-PRINCIPAL-* headers and WEBSITE_AUTH_ENABLED), the admin key is still
/// needed after it, and a session belongs to the Entra user who opened it.
/// </summary>
public sealed class AdminPageEntraGateTests : IAsyncLifetime
{
    private const string EntraUser = "aiko@contoso.example";
    private WorkspaceScenario _scenario = null!;

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync(runTriggers: false, settings: new()
    {
        ["Lumo:AdminPage:RequireEntraSignIn"] = "true",
        ["WEBSITE_AUTH_ENABLED"] = "True", // what the platform sets while App Service Authentication is on
    });

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    [Fact]
    public async Task WithoutAnEntraSignInThePageSendsToTheLoginAndTheKeyAloneOpensNoSession()
    {
        var browser = Browser(entraUser: null);
        var page = await browser.GetAsync("/api/console/sign-in?returnUrl=%2Fapi%2Fconsole%2Fworkspaces");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fconsole%2Fsign-in%3FreturnUrl%3D%252Fapi%252Fconsole%252Fworkspaces", page.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, (await AdminPageHttp.SignInAsync(browser)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/api/console/workspaces")).StatusCode);
    }

    [Fact]
    public async Task AfterTheEntraSignInTheKeyOpensASessionOfThatUserAndChangesRecordThem()
    {
        var browser = Browser(EntraUser);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/console/sign-in")).StatusCode);
        var signedIn = await AdminPageHttp.SignInAsync(browser);
        Assert.Equal(HttpStatusCode.NoContent, signedIn.StatusCode);
        var cookie = AdminPageHttp.SessionCookie(signedIn);
        browser.DefaultRequestHeaders.Add("Cookie", cookie);

        var flowPage = await browser.GetStringAsync($"/api/console/w/{_scenario.WorkspaceId}/flow");
        var reissue = await browser.PostAsync($"/api/console/w/{_scenario.WorkspaceId}/flow/reissue", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__csrf"] = AdminPageHttp.AntiForgeryToken(flowPage), ["__form"] = "reissue",
        }));
        Assert.Equal(HttpStatusCode.Redirect, reissue.StatusCode);
        var issuedBy = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{_scenario.WorkspaceId}/flow-settings"))!["keyIssuedBy"]!.GetValue<string>();
        Assert.Contains($"Entra {EntraUser}", issuedBy);
        Assert.Contains("admin page", issuedBy);

        // The same cookie behind another Entra user's sign-in, or without one, is no session.
        var someoneElse = Browser("ben@contoso.example");
        someoneElse.DefaultRequestHeaders.Add("Cookie", cookie);
        Assert.Contains("/api/console/sign-in", (await someoneElse.GetAsync($"/api/console/w/{_scenario.WorkspaceId}/flow")).Headers.Location!.OriginalString);
        var nobody = Browser(entraUser: null);
        nobody.DefaultRequestHeaders.Add("Cookie", cookie);
        Assert.StartsWith("/.auth/login/aad", (await nobody.GetAsync($"/api/console/w/{_scenario.WorkspaceId}/flow")).Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task WithAppServiceAuthenticationOffThePrincipalHeadersAreNotBelieved()
    {
        await using var unprotected = await LumoApp.StartAsync(runTriggers: false, sharingStorageWith: _scenario.App.Prefix,
            settings: new() { ["Lumo:AdminPage:RequireEntraSignIn"] = "true" }); // no WEBSITE_AUTH_ENABLED: anyone could send the headers
        var browser = Browser(EntraUser, unprotected);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await browser.GetAsync("/api/console/sign-in")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await AdminPageHttp.SignInAsync(browser)).StatusCode);
    }

    private HttpClient Browser(string? entraUser, LumoApp? app = null)
    {
        var client = AdminPageHttp.Client(app ?? _scenario.App);
        if (entraUser is not null)
        {
            // What App Service Authentication adds to a request it signed in.
            client.DefaultRequestHeaders.Add("X-MS-CLIENT-PRINCIPAL-NAME", entraUser);
            client.DefaultRequestHeaders.Add("X-MS-CLIENT-PRINCIPAL-ID", Guid.NewGuid().ToString());
            client.DefaultRequestHeaders.Add("X-MS-CLIENT-PRINCIPAL-IDP", "aad");
        }
        return client;
    }
}
