using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.Http.HttpResults;
using static Lumo.Functions.AdminPage.Components;

namespace Lumo.Functions.AdminPage.Pages;

/// <summary>Workspaces and their LINE accounts: connection status, connect and edit, the webhook URL to copy into LINE.</summary>
public static class WorkspacePages
{
    private static readonly string[] Regions = ["JP", "TW", "TH", "US", "GB", "SG", "HK", "KR"];

    public static void Map(RouteGroupBuilder page)
    {
        page.MapGet("/workspaces", List);
        page.MapPost("/workspaces", Create);
        page.MapGet("/w/{workspaceId}", Show);
        page.MapPost("/w/{workspaceId}", Update);
        page.MapPost("/w/{workspaceId}/verify", Verify);
        page.MapPost("/w/{workspaceId}/accounts", AddAccount);
        page.MapGet("/w/{workspaceId}/a/{accountId}", ShowAccount);
        page.MapPost("/w/{workspaceId}/a/{accountId}", UpdateAccount);
    }

    /// <summary>The workspace and its accounts for a page, or null when there is no such workspace.</summary>
    public static async Task<WorkspaceNav?> NavAsync(WorkspaceStore store, string workspaceId, string? accountId, CancellationToken ct) =>
        await store.GetWorkspaceIfExistsAsync(workspaceId, ct) is { } workspace ? new WorkspaceNav(workspace, await store.ListAccountsAsync(workspaceId, ct), accountId) : null;

    /// <summary>The workspace, its accounts and the chosen one for an account's page, or null when there is no such account.</summary>
    public static async Task<WorkspaceNav?> AccountNavAsync(WorkspaceStore store, string workspaceId, string accountId, CancellationToken ct) =>
        await NavAsync(store, workspaceId, accountId, ct) is { Account.Id: var id } nav && id == accountId ? nav : null;

    public static IResult NoSuchWorkspace(PageContext page) => NoSuchWorkspace(page);

    public static IResult NoSuchAccount(PageContext page) => NoSuchAccount(page);

    public static IResult NotFound(PageContext page, string what)
    {
        page.Fail(what);
        return PageLayout.Render(page, page.T("Not found"), Html.Of($"""<p><a href="{PageContext.Url("/workspaces")}">{page.T("Workspaces")}</a></p>"""), status: StatusCodes.Status404NotFound);
    }

    public static async Task<IResult> List(HttpContext http, WorkspaceStore store, CancellationToken ct) => await RenderList(new PageContext(http), store, ct);

    public static async Task<IResult> Create(HttpContext http, WorkspaceAdministration admin, WorkspaceStore store, CancellationToken ct)
    {
        var page = new PageContext(http);
        var draft = new WorkspaceDraft(page.Form("name"), new KlaviyoCredentialsDraft(page.Form("klaviyo.privateApiKey")), page.Form("defaultRegion"));
        var result = await WorkspaceEndpoints.CreateWorkspace(draft, admin, http, ct);
        if (result.Result is Created<WorkspaceView> created) return PageContext.Redirect($"/w/{created.Value!.Id}", "workspace-created");
        page.TookProblem(result.Result);
        return await RenderList(page, store, ct);
    }

    public static async Task<IResult> Show(HttpContext http, string workspaceId, WorkspaceStore store, CancellationToken ct) =>
        await RenderWorkspace(new PageContext(http), store, workspaceId, ct);

    public static async Task<IResult> Update(HttpContext http, string workspaceId, WorkspaceAdministration admin, WorkspaceStore store, CancellationToken ct)
    {
        var page = new PageContext(http);
        var key = page.Form("klaviyo.privateApiKey");
        var draft = new WorkspaceDraft(page.Form("name"), string.IsNullOrEmpty(key) ? null : new KlaviyoCredentialsDraft(key), page.Form("defaultRegion"));
        var result = await WorkspaceEndpoints.UpdateWorkspace(workspaceId, draft, page.Form("etag"), admin, store, http, ct);
        return page.TookProblem(result.Result) ? await RenderWorkspace(page, store, workspaceId, ct) : PageContext.Redirect($"/w/{workspaceId}", "saved");
    }

    public static async Task<IResult> Verify(HttpContext http, string workspaceId, WorkspaceStore store, WorkspaceAdministration admin, CancellationToken ct)
    {
        var page = new PageContext(http);
        return page.TookProblem((await WorkspaceEndpoints.VerifyConnections(workspaceId, store, admin, ct)).Result)
            ? await RenderWorkspace(page, store, workspaceId, ct) : PageContext.Redirect($"/w/{workspaceId}", "verify-queued");
    }

    public static async Task<IResult> AddAccount(HttpContext http, string workspaceId, WorkspaceAdministration admin, WorkspaceStore store, CancellationToken ct)
    {
        var page = new PageContext(http);
        var draft = new LineAccountDraft(page.Form("name"), page.Form("channelId"), page.Form("channelSecret"), page.Form("channelAccessToken"));
        var result = await WorkspaceEndpoints.AddAccount(workspaceId, draft, admin, http, ct);
        return page.TookProblem(result.Result) ? await RenderWorkspace(page, store, workspaceId, ct) : PageContext.Redirect($"/w/{workspaceId}", "account-added");
    }

    public static async Task<IResult> ShowAccount(HttpContext http, string workspaceId, string accountId, WorkspaceStore store, CancellationToken ct) =>
        await RenderAccount(new PageContext(http), store, workspaceId, accountId, ct);

    public static async Task<IResult> UpdateAccount(HttpContext http, string workspaceId, string accountId, WorkspaceAdministration admin, WorkspaceStore store, CancellationToken ct)
    {
        var page = new PageContext(http);
        var draft = new LineAccountDraft(page.Form("name"), null, Blank(page.Form("channelSecret")), Blank(page.Form("channelAccessToken")), page.Form("trackOpensAndClicks") == "true");
        var result = await WorkspaceEndpoints.UpdateAccount(workspaceId, accountId, draft, page.Form("etag"), admin, http, ct);
        return page.TookProblem(result.Result) ? await RenderAccount(page, store, workspaceId, accountId, ct) : PageContext.Redirect($"/w/{workspaceId}/a/{accountId}", "saved");
    }

    internal static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static async Task<IResult> RenderList(PageContext page, WorkspaceStore store, CancellationToken ct)
    {
        var rows = new List<Html>();
        foreach (var workspace in await store.ListWorkspacesAsync(ct))
        {
            var accounts = await store.ListAccountsAsync(workspace.Id, ct);
            rows.Add(Html.Of($"""
                <tr><td><a href="{PageContext.Url($"/w/{workspace.Id}/dashboard")}">{workspace.Name}</a></td><td>{Status(workspace.Klaviyo.Status.ToString())}</td>
                <td>{string.Join(", ", accounts.Select(a => a.Name))}</td><td>{When(workspace.CreatedAt)}</td></tr>
                """));
        }
        var body = Html.Of($"""
            {Table([page.T("Workspace"), "Klaviyo", page.T("LINE accounts"), page.T("Created")], rows, page.T("No workspace yet: create the first one below."))}
            <h2>{page.T("New workspace")}</h2>
            {Form(page, PageContext.Url("/workspaces"), Html.Of($"""
                {Field(page, "name", page.T("Name"), page.Form("name"), required: true)}
                {Field(page, "klaviyo.privateApiKey", page.T("Klaviyo private API key"), null, "password", page.T("Klaviyo → Settings → API keys. Starts with pk_. Kept in the secret store, never shown again."), true, "off")}
                {RegionSelect(page, page.Form("defaultRegion") ?? "JP")}
                """), page.T("Create workspace"), "card")}
            <h2>{page.T("Admin page sessions")}</h2>
            <form method="post" action="{PageContext.Url("/sign-out")}" class="card">{page.AntiForgeryField}<input type="hidden" name="everyone" value="true">
            <p>{page.T("Signs out every admin page session, in every browser, including this one. Use it after the admin key may have leaked, then change the key.")}</p>
            <button type="submit" class="danger">{page.T("Sign out everyone")}</button></form>
            """);
        return PageLayout.Render(page, page.T("Workspaces"), body);
    }

    private static Html RegionSelect(PageContext page, string selected) =>
        Select(page, "defaultRegion", page.T("Default region for phone numbers"), Regions.Select(r => (r, r)), selected);

    private static async Task<IResult> RenderWorkspace(PageContext page, WorkspaceStore store, string workspaceId, CancellationToken ct)
    {
        if (await NavAsync(store, workspaceId, null, ct) is not { } nav) return NoSuchWorkspace(page);
        var w = nav.Workspace;
        var origin = $"{page.Http.Request.Scheme}://{page.Http.Request.Host}";
        var (add, edit) = (page.For("account"), page.For("workspace"));
        var accounts = nav.Accounts.Select(a => Html.Of($"""
            <tr><td><a href="{PageContext.Url($"/w/{w.Id}/a/{a.Id}")}">{a.Name}</a><br><small>{a.BotDisplayName} {a.BasicId}</small></td><td>{a.ChannelId}</td>
            <td>{Status(a.Line.Status.ToString())}<br><small>{a.Line.Detail}</small></td><td>{Copyable(page, origin + LineAccountView.From(a).WebhookPath, page.T("Webhook URL"))}</td></tr>
            """));
        var body = Html.Of($"""
            <section aria-labelledby="klaviyo-h"><h2 id="klaviyo-h">Klaviyo</h2>
            <dl><dt>{page.T("Connection")}</dt><dd>{Status(w.Klaviyo.Status.ToString())} {w.Klaviyo.Detail}</dd>
            <dt>{page.T("Klaviyo account")}</dt><dd>{w.KlaviyoAccountId ?? "–"}</dd><dt>{page.T("Checked")}</dt><dd>{When(w.Klaviyo.CheckedAt)}</dd></dl>
            {Form(page.For("verify"), PageContext.Url($"/w/{w.Id}/verify"), Html.Empty, page.T("Check connections now"), "inline", "verify", "secondary")}</section>
            <h2>{page.T("LINE accounts")}</h2>
            {Table([page.T("Name"), page.T("Channel ID"), page.T("Connection"), page.T("Webhook URL")], accounts, page.T("No LINE account yet: connect one below."))}
            <p class="hint">{page.T("Set the webhook URL in the LINE Developers Console (Messaging API tab → Webhook URL) and turn “Use webhook” on.")}</p>
            <h2>{page.T("Connect a LINE Official Account")}</h2>
            {Form(add, PageContext.Url($"/w/{w.Id}/accounts"), Html.Of($"""
                {Field(add, "name", page.T("Name"), add.Form("name"), required: true)}
                {Field(add, "channelId", page.T("Messaging API channel ID"), add.Form("channelId"), hint: page.T("The 10-digit number in the LINE Developers Console (Basic settings)."), required: true)}
                {Field(add, "channelSecret", page.T("Channel secret"), null, "password", required: true, autocomplete: "off")}
                {Field(add, "channelAccessToken", page.T("Channel access token"), null, "password", page.T("Messaging API tab → Channel access token (long-lived)."), true, "off")}
                """), page.T("Connect LINE account"), "card", "account")}
            <h2>{page.T("Workspace settings")}</h2>
            {Form(edit, PageContext.Url($"/w/{w.Id}"), Html.Of($"""
                <input type="hidden" name="etag" value="{edit.Form("etag") ?? w.ETag}">
                {Field(edit, "name", page.T("Name"), edit.Form("name") ?? w.Name, required: true)}
                {Field(edit, "klaviyo.privateApiKey", page.T("New Klaviyo private API key"), null, "password", page.T("Leave empty to keep the current key."), autocomplete: "off")}
                {RegionSelect(edit, edit.Form("defaultRegion") ?? w.DefaultRegion ?? "JP")}
                """), page.T("Save"), "card", "workspace")}
            """);
        return PageLayout.Render(page, w.Name, body, nav);
    }

    private static async Task<IResult> RenderAccount(PageContext page, WorkspaceStore store, string workspaceId, string accountId, CancellationToken ct)
    {
        if (await AccountNavAsync(store, workspaceId, accountId, ct) is not { Account: { } a } nav)
            return NoSuchAccount(page);
        var names = a.PropertyNames;
        var body = Html.Of($"""
            <section><dl><dt>{page.T("Channel ID")}</dt><dd>{a.ChannelId}</dd><dt>{page.T("Connection")}</dt><dd>{Status(a.Line.Status.ToString())} {a.Line.Detail}</dd>
            <dt>{page.T("Bot")}</dt><dd>{a.BotDisplayName} {a.BasicId}</dd><dt>{page.T("Webhook URL")}</dt><dd>{Copyable(page, $"{page.Http.Request.Scheme}://{page.Http.Request.Host}{LineAccountView.From(a).WebhookPath}", page.T("Webhook URL"))}</dd>
            <dt>{page.T("Klaviyo properties")}</dt><dd>{string.Join(", ", new[] { names.UserId, names.DisplayName, names.FollowStatus, names.Consent, names.ConsentUpdatedAt, names.ConsentSource })}</dd></dl></section>
            {Form(page, PageContext.Url($"/w/{workspaceId}/a/{accountId}"), Html.Of($"""
                <input type="hidden" name="etag" value="{page.Form("etag") ?? a.ETag}">
                {Field(page, "name", page.T("Name"), page.Form("name") ?? a.Name, required: true)}
                {Checkbox(page, "trackOpensAndClicks", page.T("Track opens and clicks"), page.Form("etag") is null ? a.TrackOpensAndClicks : page.Form("trackOpensAndClicks") == "true")}
                {Field(page, "channelSecret", page.T("New channel secret"), null, "password", page.T("Leave empty to keep the current one."), autocomplete: "off")}
                {Field(page, "channelAccessToken", page.T("New channel access token"), null, "password", page.T("Leave empty to keep the current one."), autocomplete: "off")}
                """), page.T("Save"), "card")}
            """);
        return PageLayout.Render(page, a.Name, body, nav);
    }
}
