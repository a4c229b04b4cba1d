using Lumo.Core.Connections;
using Lumo.Core.Dashboard;
using Lumo.Core.Klaviyo;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Storage;
using Lumo.Core.SyncData;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Lumo.Functions.Connections;
using Lumo.Functions.Hosting;
using Lumo.Functions.Operations;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Http.HttpResults;
using static Lumo.Functions.AdminPage.Components;

namespace Lumo.Functions.AdminPage.Pages;

/// <summary>The dashboard: connections, the connected Klaviyo account, sync history, and parked work with replay.</summary>
public static class DashboardPage
{
    private const int ParkedEventsShown = 20;

    private static readonly Dictionary<string, string> KindLabels = new()
    {
        [SyncKinds.PropertyWrites] = "LINE properties → Klaviyo (bulk)", [SyncKinds.ExistingIdImport] = "Existing-ID import",
        [SyncKinds.ConsentRefresh] = "LINE consent status refresh",
        [SyncKinds.KlaviyoPull] = "Klaviyo → Lumo pull",
    };

    public static void Map(RouteGroupBuilder page)
    {
        page.MapGet("/w/{workspaceId}/dashboard", Show);
        page.MapPost("/w/{workspaceId}/parked/{queue}/replay", ReplayQueue);
        page.MapPost("/w/{workspaceId}/parked-events/replay", ReplayEvents);
        page.MapGet("/w/{workspaceId}/klaviyo/connect", ConnectKlaviyoApp);
    }

    /// <summary>Off to Klaviyo's consent screen (the dashboard's reconnect link); without the app configured, to the workspace page for a new key.</summary>
    public static async Task<IResult> ConnectKlaviyoApp(HttpContext http, string workspaceId, WorkspaceStore store, KlaviyoAppConnection connection,
        IOptions<KlaviyoOptions> options, CancellationToken ct)
    {
        if (await store.GetWorkspaceIfExistsAsync(workspaceId, ct) is null) return WorkspacePages.NoSuchWorkspace(new PageContext(http));
        if (!options.Value.OAuthConfigured) return Results.Redirect(PageContext.Url($"/w/{workspaceId}"));
        return Results.Redirect((await connection.StartAsync(workspaceId, ct)).AuthorizeUrl.ToString());
    }

    public static Task<IResult> Show(HttpContext http, string workspaceId, IServiceProvider services, CancellationToken ct) =>
        Render(new PageContext(http), workspaceId, services, ct);

    public static async Task<IResult> ReplayQueue(HttpContext http, string workspaceId, string queue, FunctionManifest manifest, LumoQueues queues, ILoggerFactory loggers,
        IServiceProvider services, CancellationToken ct)
    {
        var page = new PageContext(http);
        var result = await ParkedMessageEndpoints.ReplayParkedMessages(queue, null, manifest, queues, loggers, ct);
        return page.TookProblem(result.Result) ? await Render(page, workspaceId, services, ct) : PageContext.Redirect($"/w/{workspaceId}/dashboard", "replayed");
    }

    public static async Task<IResult> ReplayEvents(HttpContext http, string workspaceId, WorkspaceStore store, KlaviyoEventOutbox outbox, KlaviyoEventRecorder recorder,
        CancellationToken ct)
    {
        if (await store.GetWorkspaceIfExistsAsync(workspaceId, ct) is null)
        {
            var page = new PageContext(http);
            return WorkspacePages.NoSuchWorkspace(page);
        }
        await FriendEndpoints.ReplayParkedEvents(workspaceId, outbox, recorder, ct);
        return PageContext.Redirect($"/w/{workspaceId}/dashboard", "replayed");
    }

    private static Html Verdict(PageContext page, IntegrationStatus status) => status.Health switch
    {
        IntegrationHealth.NeedsReconnect => Html.Of($"""<p class="verdict">{Status("NeedsReconnect")} {page.T("Needs reconnect")}: {string.Join(", ", status.NeedsReconnect)}. {page.T("Give a new key or token on the Workspace page; the work waits for it.")}</p>"""),
        IntegrationHealth.SyncFailing => Html.Of($"""<p class="verdict">{Status("Failed")} {page.T("Sync failing")}: {page.T("work is parked or Klaviyo refused some data; see parked work, parked events and the sync history below.")}</p>"""),
        IntegrationHealth.NotChecked => Html.Of($"""<p class="verdict">{Status("Unverified")} {page.T("Not checked yet: use “Check connections now” on the Workspace page.")}</p>"""),
        _ => Html.Of($"""<p class="verdict">{Status("Healthy")} {page.T("Healthy: both connections work and nothing is parked.")}</p>"""),
    };

    private static async Task<IResult> Render(PageContext page, string workspaceId, IServiceProvider services, CancellationToken ct)
    {
        var (store, outbox) = (services.GetRequiredService<WorkspaceStore>(), services.GetRequiredService<KlaviyoEventOutbox>());
        var klaviyoApp = services.GetRequiredService<IOptions<KlaviyoOptions>>().Value;
        if (await WorkspacePages.NavAsync(store, workspaceId, null, ct) is not { } nav) return WorkspacePages.NoSuchWorkspace(page);
        var w = nav.Workspace;
        // The parked queues are listed for their replay buttons anyway, so their counts go to the dashboard from here (as
        // the admin API's dashboard call counts them itself), and parked events are listed only when it counted some.
        var parkedQueues = (await ParkedMessageEndpoints.ListParkedQueues(services.GetRequiredService<FunctionManifest>(), services.GetRequiredService<LumoQueues>(), ct)).Value!;
        var dashboard = await services.GetRequiredService<WorkspaceDashboards>().GetAsync(w, nav.Accounts, parkedQueues.Sum(q => q.ParkedCount), withFailureDetails: true,
            DashboardEndpoints.HistoryLimit, KlaviyoAppEndpoints.ConnectPagePath(workspaceId), ct);
        var parkedEvents = dashboard.Status.ParkedEvents > 0 ? await outbox.ListParkedAsync(workspaceId, ParkedEventsShown, ct) : [];

        var connections = new[] { Html.Of($"<tr><td>Klaviyo</td><td>{Status(w.Klaviyo.Status.ToString())}</td><td>{w.Klaviyo.Detail}</td><td>{When(w.Klaviyo.CheckedAt)}</td></tr>") }
            .Concat(nav.Accounts.Select(a => Html.Of($"<tr><td>LINE · {a.Name}</td><td>{Status(a.Line.Status.ToString())}</td><td>{a.Line.Detail}</td><td>{When(a.Line.CheckedAt)}</td></tr>")));
        var accountNames = nav.Accounts.ToDictionary(a => a.Id, a => a.Name);
        var history = dashboard.History.Select(h => Html.Of($"""
            <tr><td>{When(h.StartedAt)}</td><td>{page.T(KindLabels.GetValueOrDefault(h.Kind, h.Kind))}{(h.AccountId is { } id && accountNames.TryGetValue(id, out var name) ? " · " + name : "")}</td>
            <td>{Status(h.Status)}</td><td>{h.Profiles}</td><td>{h.Failures}</td><td>{h.Detail} {string.Join("; ", h.FailureDetails ?? [])}</td></tr>
            """));
        var replay = page.For("replay");
        var queuesWithWork = parkedQueues.Where(q => q.ParkedCount > 0).Select(q => Html.Of($"""
            <tr><td><code>{q.Queue}</code></td><td>{q.FunctionName}</td><td>{q.ParkedCount}</td>
            <td>{Form(replay, PageContext.Url($"/w/{workspaceId}/parked/{q.Queue}/replay"), Html.Empty, page.T("Replay"), "inline", "replay", "secondary")}</td></tr>
            """));
        var events = parkedEvents.Select(e => Html.Of($"<tr><td>{e.Event.Metric}</td><td>{e.Event.ProfileId}</td><td>{When(e.Event.Time)}</td><td>{e.ParkedReason}</td></tr>"));

        var body = Html.Of($"""
            {Verdict(page, dashboard.Status)}
            <section aria-labelledby="klaviyo-h"><h2 id="klaviyo-h">{page.T("Connected Klaviyo account")}</h2>
            <dl><dt>{page.T("Klaviyo account")}</dt><dd>{dashboard.Klaviyo.AccountId ?? page.T("not checked yet")}</dd><dt>{page.T("Connected with")}</dt><dd>{page.T(dashboard.Klaviyo.ConnectedWith)}</dd>
            <dt>{page.T("ID-matching property")}</dt><dd>{string.Join(", ", dashboard.Klaviyo.IdMatchingProperties.Select(p => $"{p.Value} ({accountNames.GetValueOrDefault(p.Key)})"))}</dd>
            <dt>{page.T("Connected at")}</dt><dd>{When(dashboard.Klaviyo.ConnectedAt)}</dd>
            <dt>{page.T("Latest data synced")}</dt><dd>{(dashboard.Status.LatestDataSynced ? page.T("yes") : page.T("no"))}</dd></dl>
            {Html.When(dashboard.Klaviyo.ReconnectUrl is not null, Html.Of($"""<p><a class="button" href="{dashboard.Klaviyo.ReconnectUrl}">{page.T("Reconnect Klaviyo")}</a></p>"""))}
            {Html.When(dashboard.Klaviyo.ReconnectUrl is null && dashboard.Klaviyo.ConnectedWith != KlaviyoConnections.OAuth && klaviyoApp.OAuthConfigured,
                Html.Of($"""<p><a href="{KlaviyoAppEndpoints.ConnectPagePath(workspaceId)}">{page.T("Connect the Klaviyo app instead of the private key")}</a></p>"""))}</section>
            <section aria-labelledby="consent-h"><h2 id="consent-h">{page.T("Update LINE Consent Status")}</h2>
            <p class="hint">{page.T("Asks LINE who follows each account and updates LINE Follow Status and LINE Consent on linked Klaviyo profiles. It never changes the follow on LINE.")}</p>
            {Html.Join(nav.Accounts.Select(a => Form(page.For("consent-" + a.Id), PageContext.Url($"/w/{workspaceId}/a/{a.Id}/sync-data/consent-refresh"), Html.Empty,
                page.T("Update LINE Consent Status") + " · " + a.Name, "inline", "consent-" + a.Id, "secondary")))}</section>
            <h2>{page.T("Connections")}</h2>
            {Table([page.T("Connection"), page.T("Status"), page.T("Detail"), page.T("Checked")], connections, "")}
            <section aria-labelledby="history-h"><h2 id="history-h">{page.T("Sync history")}</h2>
            {Table([page.T("Started"), page.T("Kind"), page.T("Status"), page.T("Profiles"), page.T("Failures"), page.T("Detail")], history, page.T("No sync yet."))}</section>
            <section aria-labelledby="parked-h"><h2 id="parked-h">{page.T("Parked work")}</h2>
            <p class="hint">{page.T("Work that failed every attempt waits here (across all workspaces) until you replay it, once its cause is fixed. Replays cannot send or record twice.")}</p>
            {Table([page.T("Queue"), page.T("Function"), page.T("Parked"), ""], queuesWithWork, page.T("Nothing is parked."))}</section>
            <h2>{page.T("Parked Klaviyo events")} ({dashboard.Status.ParkedEvents})</h2>
            {Table([page.T("Metric"), page.T("Profile"), page.T("Time"), page.T("Reason")], events, page.T("No Klaviyo event is parked."))}
            {Html.When(parkedEvents.Count > 0, Form(replay, PageContext.Url($"/w/{workspaceId}/parked-events/replay"), Html.Empty, page.T("Replay parked Klaviyo events"), formId: "replay"))}
            """);
        return PageLayout.Render(page, page.T("Dashboard"), body, nav);
    }
}
