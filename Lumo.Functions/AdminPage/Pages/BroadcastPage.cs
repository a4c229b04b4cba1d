using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Broadcasts;
using Lumo.Core.RichMenus;
using Lumo.Core.Segments;
using Lumo.Core.Workspaces;
using Lumo.Functions.Broadcasts;
using Microsoft.AspNetCore.Http.HttpResults;
using static Lumo.Functions.AdminPage.Components;

namespace Lumo.Functions.AdminPage.Pages;

/// <summary>
/// Message Broadcasts of a LINE account (progress, new broadcast, cancel), its Lumo Segments (last count, count now) and
/// rich menus (last sync). Segment rules and rich menu images are written through the admin API.
/// </summary>
public static class BroadcastPage
{
    public static void Map(RouteGroupBuilder page)
    {
        var account = page.MapGroup("/w/{workspaceId}/a/{accountId}");
        account.MapGet("/broadcasts", Show);
        account.MapPost("/broadcasts", Create);
        account.MapPost("/broadcasts/{broadcastId}/cancel", Cancel);
        account.MapPost("/segments", CreateSegment);
        account.MapPost("/segments/{segmentId}/count", Count);
    }

    public static Task<IResult> Show(HttpContext http, string workspaceId, string accountId, IServiceProvider services, CancellationToken ct) =>
        Render(new PageContext(http), workspaceId, accountId, services, ct);

    public static async Task<IResult> Create(HttpContext http, string workspaceId, string accountId, BroadcastAdministration admin, BroadcastStore store, WorkspaceStore workspaces,
        IServiceProvider services, CancellationToken ct)
    {
        var page = new PageContext(http);
        DateTimeOffset? scheduledAt = null;
        if (WorkspacePages.Blank(page.Form("scheduledAt")) is { } text)
        {
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed) && text.Length > 16) scheduledAt = parsed;
            else page.Errors["scheduledAt"] = [page.T("A time with its UTC offset, such as 2026-12-01T10:00+09:00; empty to send now.")];
        }
        if (page.Errors.Count == 0)
        {
            var draft = new BroadcastEndpoints.BroadcastCreation(page.Form("name"), page.Form("text"), null, WorkspacePages.Blank(page.Form("segmentId")), scheduledAt,
                page.Form("allowPartialSend") == "true");
            var result = await BroadcastEndpoints.Create(workspaceId, accountId, draft, admin, store, workspaces, ct);
            if (!page.TookProblem(result.Result)) return PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/broadcasts", "broadcast-created");
        }
        return await Render(page, workspaceId, accountId, services, ct);
    }

    public static async Task<IResult> Cancel(HttpContext http, string workspaceId, string accountId, string broadcastId, BroadcastAdministration admin, BroadcastStore store,
        WorkspaceStore workspaces, IServiceProvider services, CancellationToken ct)
    {
        var page = new PageContext(http);
        var result = await BroadcastEndpoints.Cancel(workspaceId, accountId, broadcastId, admin, store, workspaces, ct);
        if (!page.TookProblem(result.Result)) return PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/broadcasts", "saved");
        page.ErrorsAsProblem();
        return await Render(page, workspaceId, accountId, services, ct);
    }

    public static async Task<IResult> CreateSegment(HttpContext http, string workspaceId, string accountId, SegmentAdministration admin, IServiceProvider services,
        CancellationToken ct)
    {
        var page = new PageContext(http);
        JsonNode? conditions = null;
        try { conditions = JsonNode.Parse(page.Form("conditions") ?? ""); }
        catch (JsonException) { page.Errors["conditions"] = [page.T("The rule is JSON, for example {\"all\": [{\"linked\": true}, {\"inList\": \"LIST_ID\"}]}.")]; }
        if (page.Errors.Count == 0)
        {
            var result = await SegmentEndpoints.Create(workspaceId, accountId, new SegmentEndpoints.SegmentDraft(page.Form("name"), conditions), admin, http.Response, ct);
            http.Response.Headers.ETag = default;
            if (!page.TookProblem(result.Result)) return PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/broadcasts#segments", "saved");
        }
        return await Render(page, workspaceId, accountId, services, ct);
    }

    public static async Task<IResult> Count(HttpContext http, string workspaceId, string accountId, string segmentId, SegmentStore store, SegmentAdministration admin,
        IServiceProvider services, CancellationToken ct)
    {
        var page = new PageContext(http);
        return page.TookProblem((await SegmentEndpoints.Count(workspaceId, accountId, segmentId, store, admin, ct)).Result)
            ? await Render(page, workspaceId, accountId, services, ct) : PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/broadcasts#segments", "count-queued");
    }

    private static async Task<IResult> Render(PageContext page, string workspaceId, string accountId, IServiceProvider services, CancellationToken ct)
    {
        var workspaces = services.GetRequiredService<WorkspaceStore>();
        if (await WorkspacePages.AccountNavAsync(workspaces, workspaceId, accountId, ct) is not { Account: { } account } nav)
            return WorkspacePages.NoSuchAccount(page);
        var broadcasts = ((await BroadcastEndpoints.List(workspaceId, accountId, workspaces, services.GetRequiredService<BroadcastStore>(), ct)).Result as Ok<List<BroadcastEndpoints.BroadcastView>>)?.Value ?? [];
        var segments = ((await SegmentEndpoints.List(workspaceId, accountId, workspaces, services.GetRequiredService<SegmentStore>(), ct)).Result as Ok<List<SegmentEndpoints.SegmentView>>)?.Value ?? [];
        var menus = ((await RichMenuEndpoints.List(workspaceId, accountId, workspaces, services.GetRequiredService<RichMenuStore>(), ct)).Result as Ok<List<RichMenuEndpoints.RichMenuView>>)?.Value ?? [];
        var lastSync = (await RichMenuEndpoints.LastSync(workspaceId, accountId, services.GetRequiredService<RichMenuStore>(), ct)).Result as Ok<RichMenuSyncRun>;

        var (create, segment) = (page.For("broadcast"), page.For("segment"));
        var cancellable = new[] { BroadcastStatus.Scheduled, BroadcastStatus.Preparing, BroadcastStatus.Sending, BroadcastStatus.Paused };
        var rows = broadcasts.Select(b => Html.Of($"""
            <tr><td>{b.Name}</td><td>{b.Audience}</td><td>{Status(b.Status.ToString())}<br><small>{b.Reason}</small></td>
            <td>{b.Progress.Sent} / {b.Progress.Targeted}{Html.When(b.Progress.Failed > 0, Html.Of($" · {page.T("failed")} {b.Progress.Failed}"))}{Html.When(b.Progress.SkippedBlocked > 0, Html.Of($" · {page.T("blocked")} {b.Progress.SkippedBlocked}"))}</td>
            <td>{b.ScheduledAtLocal.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} {b.TimeZone}</td>
            <td>{Html.When(cancellable.Contains(b.Status), Form(page.For("cancel"), PageContext.Url($"/w/{workspaceId}/a/{accountId}/broadcasts/{b.Id}/cancel"), Html.Empty, page.T("Cancel"), "inline", "cancel", "secondary"))}</td></tr>
            """));
        var segmentRows = segments.Select(s => Html.Of($"""
            <tr><td>{s.Name}</td><td><code>{s.Conditions.ToJsonString()}</code></td><td>{(s.LastEvaluation is { } e ? Html.Of($"{e.Members} ({page.T("reachable")} {e.Reachable}) · {When(e.EvaluatedAt)} {e.Error}") : Html.Of($"–"))}</td>
            <td>{Form(page.For("count"), PageContext.Url($"/w/{workspaceId}/a/{accountId}/segments/{s.Id}/count"), Html.Empty, page.T("Count now"), "inline", "count", "secondary")}</td></tr>
            """));
        var menuRows = menus.Select(m => Html.Of($"""
            <tr><td>{m.Name}</td><td>{(m.IsDefault ? page.T("default") : segments.FirstOrDefault(s => s.Id == m.SegmentId)?.Name ?? m.SegmentId)}</td><td>{m.Priority}</td><td>{When(m.UpdatedAt)}</td></tr>
            """));
        var segmentOptions = new[] { ("", page.T("Every friend")) }.Concat(segments.Select(s => (s.Id, s.Name)));
        var body = Html.Of($"""
            {Table([page.T("Name"), page.T("Audience"), page.T("Status"), page.T("Sent"), page.T("Scheduled"), ""], rows, page.T("No broadcast yet."))}
            <h2>{page.T("New broadcast")}</h2>
            {Form(create, PageContext.Url($"/w/{workspaceId}/a/{accountId}/broadcasts"), Html.Of($"""
                {Field(create, "name", page.T("Name"), create.Form("name"), required: true)}
                {TextArea(create, "text", page.T("Text"), create.Form("text"), 4)}
                {Select(create, "segmentId", page.T("Audience"), segmentOptions, create.Form("segmentId") ?? "")}
                {Field(create, "scheduledAt", page.T("Send at"), create.Form("scheduledAt"), hint: page.T("A time with its UTC offset, such as 2026-12-01T10:00+09:00; empty to send now."))}
                {Checkbox(create, "allowPartialSend", page.T("Send to as many as the monthly quota allows"), create.Form("allowPartialSend") == "true")}
                """), page.T("Create broadcast"), "card", "broadcast")}
            <h2 id="segments">{page.T("Lumo Segments")}</h2>
            {Table([page.T("Name"), page.T("Rule"), page.T("Last count"), ""], segmentRows, page.T("No segment yet."))}
            {Form(segment, PageContext.Url($"/w/{workspaceId}/a/{accountId}/segments"), Html.Of($"""
                {Field(segment, "name", page.T("Segment name"), segment.Form("name"), required: true)}
                {TextArea(segment, "conditions", page.T("Rule (JSON)"), segment.Form("conditions") ?? "{\"all\": [{\"linked\": true}, {\"followStatus\": \"friend\"}]}", 4,
                    page.T("Conditions linked, followStatus, inList, inSegment and property, combined with all / any (README, “Segments, broadcasts and rich menus”)."))}
                """), page.T("Create segment"), "card", "segment")}
            <h2>{page.T("Rich menus")}</h2>
            {Table([page.T("Name"), page.T("Shown to"), page.T("Priority"), page.T("Updated")], menuRows, page.T("No rich menu yet."))}
            <p class="hint">{page.T("Last sync")}: {(lastSync?.Value is { } run ? $"{When(run.FinishedAt)} · +{run.Linked} −{run.Unlinked} · {run.Error}" : "–")}</p>
            """);
        return PageLayout.Render(page, page.T("Broadcasts") + " · " + account.Name, body, nav);
    }
}
