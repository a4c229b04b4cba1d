using Lumo.Core.FlowSends;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.Http.HttpResults;
using static Lumo.Functions.AdminPage.Components;

namespace Lumo.Functions.AdminPage.Pages;

/// <summary>
/// Flow Message Settings: what a merchant copies into a Klaviyo Flow webhook action. The key shows only when asked
/// for (a POST, so it is never in a URL, a history entry or a cache); reissuing asks first, because the old key stops at once.
/// </summary>
public static class FlowSettingsPage
{
    public static void Map(RouteGroupBuilder page)
    {
        page.MapGet("/w/{workspaceId}/flow", Show);
        page.MapPost("/w/{workspaceId}/flow/reveal", Reveal);
        page.MapPost("/w/{workspaceId}/flow/reissue", Reissue);
    }

    public static Task<IResult> Show(HttpContext http, string workspaceId, WorkspaceStore workspaces, FlowKeys keys, CancellationToken ct) =>
        Render(new PageContext(http), workspaceId, reveal: false, workspaces, keys, ct);

    public static Task<IResult> Reveal(HttpContext http, string workspaceId, WorkspaceStore workspaces, FlowKeys keys, CancellationToken ct) =>
        Render(new PageContext(http), workspaceId, reveal: true, workspaces, keys, ct);

    public static async Task<IResult> Reissue(HttpContext http, string workspaceId, WorkspaceStore workspaces, FlowKeys keys, ILoggerFactory loggers, CancellationToken ct)
    {
        var page = new PageContext(http);
        var result = await FlowSettingsEndpoints.ReissueKey(workspaceId, http.Request, workspaces, keys, loggers, ct);
        return page.TookProblem(result.Result) ? await Render(page, workspaceId, false, workspaces, keys, ct) : PageContext.Redirect($"/w/{workspaceId}/flow", "key-reissued");
    }

    private static async Task<IResult> Render(PageContext page, string workspaceId, bool reveal, WorkspaceStore workspaces, FlowKeys keys, CancellationToken ct)
    {
        if (await WorkspacePages.NavAsync(workspaces, workspaceId, null, ct) is not { } nav) return WorkspacePages.NoSuchWorkspace(page);
        var result = await FlowSettingsEndpoints.GetSettings(workspaceId, page.Http.Request, workspaces, keys, ct);
        if (result.Result is not Ok<FlowSettingsEndpoints.FlowSettingsView> { Value: { } s })
        {
            page.TookProblem(result.Result);
            return PageLayout.Render(page, page.T("Flow Message Settings"), Html.Empty, nav);
        }
        var example = s.ExampleBody.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var key = reveal
            ? Html.Of($"""<div id="flow-key">{Copyable(page, s.HeaderValue, page.T("Authentication key"))}</div>""")
            : Form(page, PageContext.Url($"/w/{workspaceId}/flow/reveal"), Html.Empty, page.T("Reveal key"), "inline", "reveal", "secondary");
        var body = Html.Of($"""
            <section><p>{page.T("In a Klaviyo Flow, add a Webhook action with these values. Klaviyo fills in each recipient's LINE User ID.")}</p>
            <dl><dt>{page.T("Destination URL")}</dt><dd>{Copyable(page, s.DestinationUrl, page.T("Destination URL"))}</dd>
            <dt>{page.T("Method")}</dt><dd>{s.Method}</dd>
            <dt>{page.T("Header name")}</dt><dd>{Copyable(page, s.HeaderName, page.T("Header name"))}</dd>
            <dt>{page.T("Authentication key")}</dt><dd>{key}</dd>
            <dt>{page.T("Issued")}</dt><dd>{When(s.KeyIssuedAt)} · {s.KeyIssuedBy}</dd></dl></section>
            <h2>{page.T("Example body")}</h2><pre>{example}</pre>{Copyable(page, example, page.T("Example body"))}
            <h2>{page.T("Reissue Authentication Key")}</h2>
            <p>{page.T("Issue a new key when the old one may have leaked. The old key is refused from the very next request, on every instance.")}</p>
            <button type="button" class="danger" data-dialog="reissue-dialog">{page.T("Reissue key…")}</button>
            <dialog id="reissue-dialog" aria-labelledby="reissue-h"><h2 id="reissue-h">{page.T("Reissue the Flow key?")}</h2>
            <p>{page.T("The old key stops working at once. Every Klaviyo Flow webhook that still sends it is refused (401) until you paste the new key into it.")}</p>
            <div class="actions">{Form(page, PageContext.Url($"/w/{workspaceId}/flow/reissue"), Html.Empty, page.T("Reissue now"), "inline", "reissue", "danger")}
            <button type="button" data-close>{page.T("Cancel")}</button></div></dialog>
            """);
        return PageLayout.Render(page, page.T("Flow Message Settings"), body, nav);
    }
}
