using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.AdminPage;

/// <summary>The admin page's Sync Data screen saves the sync rules through the admin API's own checks, and starts runs.</summary>
public sealed class SyncDataPageTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private HttpClient _browser = null!;
    private string Page => $"/api/console/w/{_scenario.WorkspaceId}/a/{_scenario.AccountId}/sync-data";

    public async Task InitializeAsync()
    {
        _scenario = await WorkspaceScenario.StartAsync();
        _browser = AdminPageHttp.Client(_scenario.App, AdminPageHttp.SessionCookie(await AdminPageHttp.SignInAsync(_scenario.App.CreateClient())));
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<HttpResponseMessage> PostAsync(string path, Dictionary<string, string> form)
    {
        var shown = await _browser.GetStringAsync(Page);
        form["__csrf"] = AdminPageHttp.AntiForgeryToken(shown);
        return await _browser.PostAsync(path, new FormUrlEncodedContent(form));
    }

    private static string EtagIn(string page) => System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(page, "name=\"etag\" value=\"([^\"]*)\"").Groups[1].Value);

    [Fact]
    public async Task SavesTheRulesShowsRefusedFieldsBesideTheirInputAndStartsAResync()
    {
        await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{_scenario.WorkspaceId}/dashboard"),
            d => d!["status"]!["health"]!.GetValue<string>() == "healthy"); // the connection checks are done writing the account row
        var shown = await _browser.GetStringAsync(Page);
        Assert.Contains("LINE Consent Source", shown);

        var refused = await PostAsync(Page, new() { ["__form"] = "rules", ["etag"] = EtagIn(shown), ["displayName"] = "true", ["klaviyoToLumo"] = "shoe_size" });
        var refusedPage = await refused.Content.ReadAsStringAsync();
        var saved = await PostAsync(Page, new() { ["__form"] = "rules", ["etag"] = EtagIn(shown), ["klaviyoToLumo"] = "first_name\nlast_name" }); // Display Name unticked
        var resync = await PostAsync($"{Page}/resync", new() { ["__form"] = "resync" });

        Assert.Contains("shoe_size is not a Klaviyo profile field", refusedPage);
        Assert.Contains("aria-invalid", refusedPage);
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var rules = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/sync-rules"))!;
        Assert.Equal(["first_name", "last_name"], rules["klaviyoToLumo"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.False(rules["lumoToKlaviyo"]!.AsArray().Single(f => f!["property"]!.GetValue<string>() == "LINE Display Name")!["enabled"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Redirect, resync.StatusCode);
        await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/sync-runs"),
            r => r!.Any(x => x!["kind"]!.GetValue<string>() == "resync" && x["status"]!.GetValue<string>() == "completed"), because: "the resync the page started runs");
    }
}
