using Lumo.Core.IdLinkage;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Lumo.Core.Friends;
using Lumo.Functions.Admin;
using Lumo.Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using static Lumo.Functions.AdminPage.Components;

namespace Lumo.Functions.AdminPage.Pages;

/// <summary>The dashboard: connections, the connected Klaviyo account, sync history, and parked work with replay.</summary>
public static class DashboardPage
{
    public static void Map(RouteGroupBuilder page)
    {
        page.MapGet("/w/{workspaceId}/dashboard", Show);
        page.MapPost("/w/{workspaceId}/parked/{queue}/replay", ReplayQueue);
        page.MapPost("/w/{workspaceId}/parked-events/replay", ReplayEvents);
    }

    public static Task<IResult> Show(HttpContext http, string workspaceId, IServiceProvider services, CancellationToken ct) =>
        Render(new PageContext(http, WorkspacePages.Session(http)), workspaceId, services, ct);

    public static async Task<IResult> ReplayQueue(HttpContext http, string workspaceId, string queue, FunctionManifest manifest, LumoQueues queues, ILoggerFactory loggers,
        IServiceProvider services, CancellationToken ct)
    {
        var page = new PageContext(http, WorkspacePages.Session(http));
        var result = await ParkedMessageEndpoints.ReplayParkedMessages(queue, null, manifest, queues, loggers, ct);
        return page.TookProblem(result.Result) ? await Render(page, workspaceId, services, ct) : PageContext.Redirect($"/w/{workspaceId}/dashboard", "replayed");
    }

    public static async Task<IResult> ReplayEvents(HttpContext http, string workspaceId, WorkspaceStore store, KlaviyoEventOutbox outbox, KlaviyoEventRecorder recorder,
        CancellationToken ct)
    {
        if (await store.GetWorkspaceIfExistsAsync(workspaceId, ct) is null)
        {
            var page = new PageContext(http, WorkspacePages.Session(http));
            return WorkspacePages.NotFound(page, page.T("There is no such workspace."));
        }
        await FriendEndpoints.ReplayParkedEvents(workspaceId, outbox, recorder, ct);
        return PageContext.Redirect($"/w/{workspaceId}/dashboard", "replayed");
    }

    /// <summary>
    /// One line on top: needs reconnect (a credential was refused: work waits for a new one), sync failing (work or
    /// Klaviyo events parked, or the latest bulk property write had failures), not checked yet, or healthy.
    /// </summary>
    private static Html Verdict(PageContext page, WorkspaceNav nav, int parked, Dictionary<string, object?>? latestJob)
    {
        var connections = nav.Accounts.Select(a => (Name: "LINE · " + a.Name, a.Line.Status)).Prepend((Name: "Klaviyo", nav.Workspace.Klaviyo.Status)).ToList();
        var refused = connections.Where(c => c.Status is ConnectionStatus.Failed or ConnectionStatus.NeedsReconnect).Select(c => c.Name).ToList();
        var (status, text) = refused.Count > 0
            ? ("NeedsReconnect", $"{page.T("Needs reconnect")}: {string.Join(", ", refused)}. {page.T("Give a new key or token on the Workspace page; the work waits for it.")}")
            : parked > 0 || latestJob?["failed"] is > 0
                ? ("Failed", $"{page.T("Sync failing")}: {page.T("work is parked or Klaviyo refused some data; see parked work, parked events and the sync history below.")}")
                : connections.Any(c => c.Status != ConnectionStatus.Verified)
                    ? ("Unverified", page.T("Not checked yet: use “Check connections now” on the Workspace page."))
                    : ("Healthy", page.T("Healthy: both connections work and nothing is parked."));
        return Html.Of($"""<p class="verdict">{Status(status)} {text}</p>""");
    }

    private static async Task<IResult> Render(PageContext page, string workspaceId, IServiceProvider services, CancellationToken ct)
    {
        var (store, sync, imports, outbox) = (services.GetRequiredService<WorkspaceStore>(), services.GetRequiredService<FriendBulkSync>(),
            services.GetRequiredService<LinkImportHistory>(), services.GetRequiredService<KlaviyoEventOutbox>());
        var (manifest, queues) = (services.GetRequiredService<FunctionManifest>(), services.GetRequiredService<LumoQueues>());
        if (await WorkspacePages.NavAsync(store, workspaceId, null, ct) is not { } nav) return WorkspacePages.NotFound(page, page.T("There is no such workspace."));
        var w = nav.Workspace;

        var jobs = (await FriendEndpoints.ListSyncJobs(workspaceId, sync, ct)).Value!;
        var runs = new List<(LineAccount Account, LinkImportRun Run)>();
        foreach (var account in nav.Accounts)
            if ((await IdLinkageEndpoints.ListImports(workspaceId, account.Id, store, imports, ct)).Result is Ok<List<LinkImportRun>> ok)
                runs.AddRange(ok.Value!.Select(r => (account, r)));
        var parkedEvents = (await FriendEndpoints.ListParkedEvents(workspaceId, outbox, ct)).Value!;
        var parkedQueues = (await ParkedMessageEndpoints.ListParkedQueues(manifest, queues, ct)).Value!;

        var connections = new[] { Html.Of($"<tr><td>Klaviyo</td><td>{Status(w.Klaviyo.Status.ToString())}</td><td>{w.Klaviyo.Detail}</td><td>{When(w.Klaviyo.CheckedAt)}</td></tr>") }
            .Concat(nav.Accounts.Select(a => Html.Of($"<tr><td>LINE · {a.Name}</td><td>{Status(a.Line.Status.ToString())}</td><td>{a.Line.Detail}</td><td>{When(a.Line.CheckedAt)}</td></tr>")));
        var history = jobs.Select(j => (At: j["startedAt"] as DateTimeOffset?, Row: Html.Of($"""
                <tr><td>{When(j["startedAt"] as DateTimeOffset?)}</td><td>{page.T("LINE properties → Klaviyo (bulk)")}</td><td>{Status(j["status"]?.ToString() ?? "")}</td>
                <td>{j["profiles"]}</td><td>{j["failed"]}</td><td>{string.Join("; ", j["errors"] as List<string> ?? [])}</td></tr>
                """)))
            .Concat(runs.Select(r => (At: (DateTimeOffset?)r.Run.StartedAt, Row: Html.Of($"""
                <tr><td>{When(r.Run.StartedAt)}</td><td>{page.T("Existing-ID import")} · {r.Account.Name}</td><td>{Status(r.Run.Status)}</td>
                <td>{r.Run.Profiles}</td><td>{r.Run.Conflicts}</td><td>{page.T("linked")} {r.Run.Linked}, {page.T("already linked")} {r.Run.AlreadyLinked}, {page.T("not friends")} {r.Run.NotFriends} {r.Run.Problem}</td></tr>
                """))))
            .OrderByDescending(h => h.At).Take(50).Select(h => h.Row);
        var replay = page.For("replay");
        var queuesWithWork = parkedQueues.Where(q => q.ParkedCount > 0).Select(q => Html.Of($"""
            <tr><td><code>{q.Queue}</code></td><td>{q.FunctionName}</td><td>{q.ParkedCount}</td>
            <td>{Form(replay, PageContext.Url($"/w/{workspaceId}/parked/{q.Queue}/replay"), Html.Empty, page.T("Replay"), "inline", "replay", "secondary")}</td></tr>
            """));
        var events = parkedEvents.Take(20).Select(e => Html.Of($"<tr><td>{e.Metric}</td><td>{e.ProfileId}</td><td>{When(e.Time)}</td><td>{e.Reason}</td></tr>"));

        var body = Html.Of($"""
            {Verdict(page, nav, parkedEvents.Count + parkedQueues.Sum(q => q.ParkedCount), jobs.MaxBy(j => j["startedAt"] as DateTimeOffset?))}
            <section aria-labelledby="klaviyo-h"><h2 id="klaviyo-h">{page.T("Connected Klaviyo account")}</h2>
            <dl><dt>{page.T("Klaviyo account")}</dt><dd>{w.KlaviyoAccountId ?? page.T("not checked yet")}</dd><dt>{page.T("Connected with")}</dt><dd>{page.T("private API key")}</dd>
            <dt>{page.T("ID-matching property")}</dt><dd>{string.Join(", ", nav.Accounts.Select(a => $"{a.PropertyNames.UserId} ({a.Name})"))}</dd><dt>{page.T("Connected at")}</dt><dd>{When(w.CreatedAt)}</dd></dl></section>
            <h2>{page.T("Connections")}</h2>
            {Table([page.T("Connection"), page.T("Status"), page.T("Detail"), page.T("Checked")], connections, "")}
            <section aria-labelledby="history-h"><h2 id="history-h">{page.T("Sync history")}</h2>
            {Table([page.T("Started"), page.T("Kind"), page.T("Status"), page.T("Profiles"), page.T("Failures"), page.T("Detail")], history, page.T("No sync yet."))}</section>
            <section aria-labelledby="parked-h"><h2 id="parked-h">{page.T("Parked work")}</h2>
            <p class="hint">{page.T("Work that failed every attempt waits here (across all workspaces) until you replay it, once its cause is fixed. Replays cannot send or record twice.")}</p>
            {Table([page.T("Queue"), page.T("Function"), page.T("Parked"), ""], queuesWithWork, page.T("Nothing is parked."))}</section>
            <h2>{page.T("Parked Klaviyo events")} ({parkedEvents.Count})</h2>
            {Table([page.T("Metric"), page.T("Profile"), page.T("Time"), page.T("Reason")], events, page.T("No Klaviyo event is parked."))}
            {Html.When(parkedEvents.Count > 0, Form(replay, PageContext.Url($"/w/{workspaceId}/parked-events/replay"), Html.Empty, page.T("Replay parked Klaviyo events"), formId: "replay"))}
            """);
        return PageLayout.Render(page, page.T("Dashboard"), body, nav);
    }
}
