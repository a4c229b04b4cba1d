using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lumo.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Lumo.Tests.AdminPage;

/// <summary>
/// The optional second gate: with App Service Authentication (Entra ID) in front, the admin page answers only requests
/// the platform signed in (it sets X-MS-CLIENT-PRINCIPAL-NAME), and the admin key is still needed after it.
/// </summary>
public sealed partial class AdminPageEntraGateTests : IAsyncLifetime
{
    private const string EntraUser = "aiko@contoso.example";
    private WorkspaceScenario _scenario = null!;

    public async Task InitializeAsync() =>
        _scenario = await WorkspaceScenario.StartAsync(runTriggers: false, settings: new() { ["Lumo:AdminPage:RequireEntraSignIn"] = "true" });

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private HttpClient Browser() => _scenario.App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

    [Fact]
    public async Task WithoutAnEntraSignInThePageSendsToTheLoginAndTheKeyAloneOpensNoSession()
    {
        var browser = Browser();
        var page = await browser.GetAsync("/api/console/sign-in?returnUrl=%2Fapi%2Fconsole%2Fworkspaces");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fconsole%2Fsign-in%3FreturnUrl%3D%252Fapi%252Fconsole%252Fworkspaces", page.Headers.Location!.OriginalString);

        var session = new HttpRequestMessage(HttpMethod.Post, "/api/manage/session");
        session.Headers.Add("x-functions-key", LumoApp.AdminKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.SendAsync(session)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/api/console/workspaces")).StatusCode);
    }

    [Fact]
    public async Task AfterTheEntraSignInTheKeyOpensASessionAndChangesRecordTheEntraUser()
    {
        var browser = Browser();
        browser.DefaultRequestHeaders.Add("X-MS-CLIENT-PRINCIPAL-NAME", EntraUser); // what App Service Authentication adds
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/console/sign-in")).StatusCode);
        var session = new HttpRequestMessage(HttpMethod.Post, "/api/manage/session");
        session.Headers.Add("x-functions-key", LumoApp.AdminKey);
        var signedIn = await browser.SendAsync(session);
        Assert.Equal(HttpStatusCode.NoContent, signedIn.StatusCode);
        // .NET's cookie container keeps only cookies whose path holds the request's; a browser keeps this one for /api/console.
        browser.DefaultRequestHeaders.Add("Cookie", signedIn.Headers.GetValues("Set-Cookie").Single().Split(';')[0]);

        var flowPage = await browser.GetStringAsync($"/api/console/w/{_scenario.WorkspaceId}/flow");
        var token = AntiForgeryField().Match(flowPage).Groups[1].Value;
        var reissue = await browser.PostAsync($"/api/console/w/{_scenario.WorkspaceId}/flow/reissue", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__csrf"] = token, ["__form"] = "reissue",
        }));
        Assert.Equal(HttpStatusCode.Redirect, reissue.StatusCode);
        var settings = await _scenario.Admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{_scenario.WorkspaceId}/flow-settings");
        Assert.Contains(EntraUser, settings!["keyIssuedBy"]!.GetValue<string>());
        Assert.Contains("admin page", settings["keyIssuedBy"]!.GetValue<string>());

        // The same session cookie without the platform's sign-in is sent back to the login.
        browser.DefaultRequestHeaders.Remove("X-MS-CLIENT-PRINCIPAL-NAME");
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync($"/api/console/w/{_scenario.WorkspaceId}/flow")).StatusCode);
    }

    [GeneratedRegex("name=\"__csrf\" value=\"([^\"]+)\"")]
    private static partial Regex AntiForgeryField();
}
