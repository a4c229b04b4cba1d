using Lumo.Core.Storage;
using Lumo.Core.SyncData;
using Lumo.Core.Workspaces;
using Lumo.Functions.SyncData;
using Microsoft.AspNetCore.Http.HttpResults;
using static Lumo.Functions.AdminPage.Components;

namespace Lumo.Functions.AdminPage.Pages;

/// <summary>
/// The Sync Data screen of a LINE account: sync rules (LINE properties written to Klaviyo, Klaviyo fields pulled), pull
/// now, Resync Data, Update LINE Consent Status, and the account's runs with their progress and a cancel button.
/// </summary>
public static class SyncDataPage
{
    private const int RunsShown = 20;

    public static void Map(RouteGroupBuilder page)
    {
        var account = page.MapGroup("/w/{workspaceId}/a/{accountId}/sync-data");
        account.MapGet("", Show);
        account.MapPost("", SaveRules);
        account.MapPost("/pull", Pull);
        account.MapPost("/resync", Resync);
        account.MapPost("/consent-refresh", RefreshConsent);
        account.MapPost("/runs/{runId}/cancel", Cancel);
    }

    public static Task<IResult> Show(HttpContext http, string workspaceId, string accountId, IServiceProvider services, CancellationToken ct) =>
        Render(new PageContext(http), workspaceId, accountId, services, ct);

    public static async Task<IResult> SaveRules(HttpContext http, string workspaceId, string accountId, WorkspaceStore workspaces, SyncRules rules, IServiceProvider services,
        CancellationToken ct)
    {
        var page = new PageContext(http);
        var account = await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct);
        if (account is null) return WorkspacePages.NoSuchAccount(page);
        var pulled = (page.Form("klaviyoToLumo") ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var draft = new SyncRulesDraft(new Dictionary<string, bool> { [account.PropertyNames.DisplayName] = page.Form("displayName") == "true" }, pulled);
        var result = await SyncDataEndpoints.SaveRules(workspaceId, accountId, draft, WorkspacePages.Blank(page.Form("etag")), workspaces, rules, http, ct);
        http.Response.Headers.ETag = default; // the page carries its own copy in the form
        if (!page.TookProblem(result.Result)) return PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/sync-data", "saved");
        page.GatherErrorsUnder("klaviyoToLumo");
        return await Render(page, workspaceId, accountId, services, ct);
    }

    public static async Task<IResult> Pull(HttpContext http, string workspaceId, string accountId, WorkspaceStore workspaces, LumoQueues queues, IServiceProvider services,
        CancellationToken ct)
    {
        var page = new PageContext(http);
        return page.TookProblem((await SyncDataEndpoints.StartPull(workspaceId, accountId, workspaces, queues, ct)).Result)
            ? await Render(page, workspaceId, accountId, services, ct) : PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/sync-data", "sync-queued");
    }

    public static async Task<IResult> Resync(HttpContext http, string workspaceId, string accountId, WorkspaceStore workspaces, KlaviyoProfilePull pulls, IServiceProvider services,
        CancellationToken ct)
    {
        var page = new PageContext(http);
        return (await SyncDataEndpoints.StartResync(workspaceId, accountId, workspaces, pulls, ct)).Result switch
        {
            Accepted<SyncDataEndpoints.SyncRunView> => PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/sync-data", "sync-queued"),
            Conflict<SyncDataEndpoints.SyncRunView> => PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/sync-data", "sync-running"),
            _ => WorkspacePages.NoSuchAccount(page),
        };
    }

    public static async Task<IResult> RefreshConsent(HttpContext http, string workspaceId, string accountId, WorkspaceStore workspaces, ConsentRefresh refresh,
        CancellationToken ct) =>
        (await SyncDataEndpoints.StartConsentRefresh(workspaceId, accountId, workspaces, refresh, ct)).Result switch
        {
            Accepted<SyncDataEndpoints.SyncRunView> => PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/sync-data", "consent-refresh-queued"),
            Conflict<SyncDataEndpoints.SyncRunView> => PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/sync-data", "consent-refresh-running"),
            _ => WorkspacePages.NoSuchAccount(new PageContext(http)),
        };

    public static async Task<IResult> Cancel(HttpContext http, string workspaceId, string accountId, string runId, SyncRunHistory history, TimeProvider clock,
        IServiceProvider services, CancellationToken ct)
    {
        var page = new PageContext(http);
        return page.TookProblem((await SyncDataEndpoints.CancelRun(workspaceId, accountId, runId, history, clock, ct)).Result)
            ? await Render(page, workspaceId, accountId, services, ct) : PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/sync-data", "cancel-requested");
    }

    private static async Task<IResult> Render(PageContext page, string workspaceId, string accountId, IServiceProvider services, CancellationToken ct)
    {
        var workspaces = services.GetRequiredService<WorkspaceStore>();
        if (await WorkspacePages.AccountNavAsync(workspaces, workspaceId, accountId, ct) is not { Account: { } account } nav) return WorkspacePages.NoSuchAccount(page);
        var view = SyncRules.ViewOf(account);
        var runs = await services.GetRequiredService<SyncRunHistory>().ListAsync(workspaceId, accountId, RunsShown, ct);
        var here = PageContext.Url($"/w/{workspaceId}/a/{accountId}/sync-data");
        var rules = page.For("rules");
        var posted = rules.Form("__form") is not null;
        var lumoFields = view.LumoToKlaviyo.Select(f => Html.Of($"<tr><td>{f.Property}</td><td>{(f.Required ? page.T("required (ID matching and broadcast consent)") : page.T("optional"))}</td></tr>"));
        var runRows = runs.Select(r => Html.Of($"""
            <tr><td>{r.StartedAt.ToString("yyyy-MM-dd HH:mm:ss")} UTC</td><td>{r.Kind}</td><td>{Status(r.Status)}</td><td>{r.Profiles}</td><td>{r.Failures}</td>
            <td>{string.Join(", ", r.Counts.Select(c => $"{c.Key} {c.Value}"))} {r.Problem} {string.Join("; ", r.FailureDetails.Take(5))}</td>
            <td>{Html.When(!r.IsFinished && r.Kind is SyncKinds.KlaviyoPull or SyncKinds.Resync,
                Form(page.For("cancel-" + r.Id), $"{here}/runs/{r.Id}/cancel", Html.Empty, page.T("Cancel"), "inline", "cancel-" + r.Id, "secondary"))}</td></tr>
            """));
        var body = Html.Of($"""
            <section aria-labelledby="rules-h"><h2 id="rules-h">{page.T("Sync rules")}</h2>
            <h3>{page.T("Lumo → Klaviyo")}</h3>
            {Table([page.T("Property"), page.T("Rule")], lumoFields, "")}
            {Form(rules, here, Html.Of($"""
                <input type="hidden" name="etag" value="{(posted ? rules.Form("etag") : account.ETag)}">
                {Checkbox(rules, "displayName", page.T("Write LINE Display Name to Klaviyo"), posted ? rules.Form("displayName") == "true" : account.SyncDisplayName,
                    page.T("Switched off, it is no longer written; nothing is deleted from Klaviyo."))}
                {TextArea(rules, "klaviyoToLumo", page.T("Klaviyo → Lumo: fields pulled onto linked friends, one per line"), posted ? rules.Form("klaviyoToLumo") : string.Join("\n", view.KlaviyoToLumo), 5,
                    page.T("Standard fields: ") + string.Join(", ", SyncRules.StandardKlaviyoFields) + page.T(". Custom properties: properties.<name>, as on your Klaviyo profiles."))}
                """), page.T("Save sync rules"), formId: "rules")}</section>
            <section aria-labelledby="run-h"><h2 id="run-h">{page.T("Run now")}</h2>
            <p class="hint">{page.T("The pull runs every 5 minutes by itself. Resync Data reads every Klaviyo profile again, links again profiles that carry this account's LINE User ID, and writes every linked friend's LINE properties.")}</p>
            {Form(page.For("pull"), $"{here}/pull", Html.Empty, page.T("Pull from Klaviyo now"), "inline", "pull", "secondary")}
            {Form(page.For("resync"), $"{here}/resync", Html.Empty, page.T("Resync Data"), "inline", "resync", "secondary")}
            {Form(page.For("consent"), $"{here}/consent-refresh", Html.Empty, page.T("Update LINE Consent Status"), "inline", "consent", "secondary")}</section>
            <section aria-labelledby="runs-h"><h2 id="runs-h">{page.T("Runs")}</h2>
            {Table([page.T("Started"), page.T("Kind"), page.T("Status"), page.T("Profiles"), page.T("Failures"), page.T("Detail"), ""], runRows, page.T("No sync yet."))}</section>
            """);
        return PageLayout.Render(page, page.T("Sync Data"), body, nav);
    }
}
