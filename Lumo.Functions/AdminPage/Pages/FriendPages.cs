using Lumo.Core;
using Lumo.Core.FlowSends;
using Lumo.Core.Friends;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.Http.HttpResults;
using static Lumo.Functions.AdminPage.Components;

namespace Lumo.Functions.AdminPage.Pages;

/// <summary>Friends (search by LINE user ID, email or phone; detail with link, properties as synced, sends and diagnosis) and the send log.</summary>
public static class FriendPages
{
    private const int ListShown = 50;

    public static void Map(RouteGroupBuilder page)
    {
        page.MapGet("/w/{workspaceId}/a/{accountId}/friends", Search);
        page.MapGet("/w/{workspaceId}/a/{accountId}/friends/{userId}", Show);
        page.MapPost("/w/{workspaceId}/a/{accountId}/friends/{userId}/link", Link);
        page.MapPost("/w/{workspaceId}/a/{accountId}/friends/{userId}/unlink", Unlink);
        page.MapPost("/w/{workspaceId}/a/{accountId}/friends/{userId}/contact", SetContact);
        page.MapGet("/w/{workspaceId}/sends", SendLog);
    }

    /// <summary>One search box: a LINE user ID opens the friend, an address with @ searches emails, anything else phone numbers.</summary>
    public static async Task<IResult> Search(HttpContext http, string workspaceId, string accountId, string? q, WorkspaceStore workspaces, LineFriendStore friends, CancellationToken ct)
    {
        var page = new PageContext(http);
        if (await WorkspacePages.AccountNavAsync(workspaces, workspaceId, accountId, ct) is not { Account: { } account } nav)
            return WorkspacePages.NoSuchAccount(page);
        var query = q?.Trim();
        if (query is { Length: > 0 } && Ids.IsLineUserId(query)) return Results.Redirect(PageContext.Url($"/w/{workspaceId}/a/{accountId}/friends/{query}"));
        var result = await FriendEndpoints.ListFriends(workspaceId, accountId, null, query is { Length: > 0 } && query.Contains('@') ? query : null,
            query is { Length: > 0 } && !query.Contains('@') ? query : null, friends, workspaces, ct);
        var found = (result.Result as Ok<List<FriendEndpoints.FriendView>>)?.Value ?? [];
        if (page.TookProblem(result.Result)) page.GatherErrorsUnder("q");
        var rows = found.Take(ListShown).Select(f => Html.Of($"""
            <tr><td><a href="{PageContext.Url($"/w/{workspaceId}/a/{accountId}/friends/{f.UserId}")}">{f.DisplayName ?? f.UserId}</a><br><small><code>{f.UserId}</code></small></td>
            <td>{Status(f.FollowStatus.ToString())}</td><td>{Status(f.Consent.ToString())}</td><td>{(f.Klaviyo.Linked ? Status("Linked") : Html.Of($"–"))}</td></tr>
            """));
        var body = Html.Of($"""
            <form method="get" role="search" class="card">{Field(page, "q", page.T("Find a friend"), query, "search", page.T("A LINE user ID (U…), an email address or a phone number."))}<button type="submit">{page.T("Search")}</button></form>
            {Table([page.T("Friend"), page.T("Follow status"), page.T("Consent"), page.T("Klaviyo")], rows, query is { Length: > 0 } ? page.T("No friend matches.") : page.T("No friend yet."))}
            """);
        return PageLayout.Render(page, page.T("Friends") + " · " + account.Name, body, nav);
    }

    public static Task<IResult> Show(HttpContext http, string workspaceId, string accountId, string userId, WorkspaceStore workspaces, LineFriendStore friends, LineSendStore sends,
        CancellationToken ct) => Render(new PageContext(http), workspaceId, accountId, userId, workspaces, friends, sends, ct);

    /// <summary>Links the friend to a Klaviyo profile by hand; its LINE properties are written there at once.</summary>
    public static async Task<IResult> Link(HttpContext http, string workspaceId, string accountId, string userId, FriendAdministration admin, WorkspaceStore workspaces,
        LineFriendStore friends, LineSendStore sends, CancellationToken ct)
    {
        var page = new PageContext(http);
        var result = await FriendEndpoints.Link(workspaceId, accountId, userId, new FriendEndpoints.LinkDraft(page.Form("klaviyoProfileId")), admin, ct);
        return page.TookProblem(result.Result) ? await Render(page, workspaceId, accountId, userId, workspaces, friends, sends, ct)
            : PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/friends/{userId}", "saved");
    }

    public static async Task<IResult> Unlink(HttpContext http, string workspaceId, string accountId, string userId, FriendAdministration admin, WorkspaceStore workspaces,
        LineFriendStore friends, LineSendStore sends, CancellationToken ct)
    {
        var page = new PageContext(http);
        var result = await FriendEndpoints.Unlink(workspaceId, accountId, userId, admin, ct);
        return page.TookProblem(result.Result) ? await Render(page, workspaceId, accountId, userId, workspaces, friends, sends, ct)
            : PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/friends/{userId}", "saved");
    }

    public static async Task<IResult> SetContact(HttpContext http, string workspaceId, string accountId, string userId, FriendAdministration admin, WorkspaceStore workspaces,
        LineFriendStore friends, LineSendStore sends, CancellationToken ct)
    {
        var page = new PageContext(http);
        var draft = new FriendEndpoints.ContactDraft(WorkspacePages.Blank(page.Form("email")), WorkspacePages.Blank(page.Form("phoneNumber")));
        var result = await FriendEndpoints.SetContact(workspaceId, accountId, userId, draft, admin, workspaces, ct);
        return page.TookProblem(result.Result) ? await Render(page, workspaceId, accountId, userId, workspaces, friends, sends, ct)
            : PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/friends/{userId}", "saved");
    }

    private static async Task<IResult> Render(PageContext page, string workspaceId, string accountId, string userId, WorkspaceStore workspaces, LineFriendStore friends,
        LineSendStore sends, CancellationToken ct)
    {
        if (await WorkspacePages.AccountNavAsync(workspaces, workspaceId, accountId, ct) is not { Account: { } account } nav)
            return WorkspacePages.NoSuchAccount(page);
        if (await friends.GetIfExistsAsync(workspaceId, accountId, userId, ct) is not { } friend)
            return WorkspacePages.NotFound(page, page.T("No friend with this LINE user ID is known for this LINE account."));
        var diagnosis = (await DiagnosisEndpoints.Diagnose(workspaceId, userId, null, workspaces, friends, sends, ct)).Result as Ok<List<DiagnosisEndpoints.AccountDiagnosis>>;
        var checks = diagnosis?.Value?.FirstOrDefault(d => d.AccountId == accountId)?.Checks ?? [];
        var log = (await FlowSettingsEndpoints.ListSends(workspaceId, userId, null, sends, ct)).Value!.Where(s => s.AccountId == accountId).Take(ListShown);
        var here = PageContext.Url($"/w/{workspaceId}/a/{accountId}/friends/{userId}");
        var properties = FriendProperties.For(friend, account).Select(p => Html.Of($"<tr><td>{p.Key}</td><td>{p.Value}</td></tr>"));
        var body = Html.Of($"""
            <section><dl><dt>{page.T("LINE user ID")}</dt><dd><code>{friend.UserId}</code></dd><dt>{page.T("Follow status")}</dt><dd>{Status(friend.FollowStatus.ToString())}</dd>
            <dt>{page.T("Consent")}</dt><dd>{Status(friend.Consent.ToString())} {When(friend.ConsentUpdatedAt)} · {friend.ConsentSource}</dd>
            <dt>{page.T("Email")}</dt><dd>{friend.Email ?? "–"}</dd><dt>{page.T("Phone number")}</dt><dd>{friend.PhoneNumber ?? "–"}</dd>
            <dt>{page.T("Klaviyo profile")}</dt><dd>{(friend.KlaviyoProfileId is { } profile
                ? Html.Of($"""{Status("Linked")} <code>{profile}</code> · <a href="https://www.klaviyo.com/profile/{Uri.EscapeDataString(profile)}" target="_blank" rel="noopener noreferrer">{page.T("View in Klaviyo")}</a> · {When(friend.LinkedAt)} · {friend.LinkedHow}""")
                : Html.Of($"{page.T("not linked")}"))}</dd>
            <dt>{page.T("Properties synced")}</dt><dd>{When(friend.PropertiesSyncedAt)} {friend.PropertiesSyncError}</dd>
            {Html.Join(friend.KlaviyoFields.Select(f => Html.Of($"<dt>{f.Key} <small>(Klaviyo)</small></dt><dd>{f.Value}</dd>")))}</dl></section>
            <div class="grid">
            {(friend.IsLinked
                ? Form(page.For("unlink"), $"{here}/unlink", Html.Of($"<p>{page.T("Unlinking stops Klaviyo events and property writes for this friend; the profile keeps what was written.")}</p>"), page.T("Unlink"), "card", "unlink", "secondary")
                : Form(page.For("link"), $"{here}/link", Field(page.For("link"), "klaviyoProfileId", page.T("Klaviyo profile ID"), page.For("link").Form("klaviyoProfileId"),
                    hint: page.T("From the profile's URL in Klaviyo (…/profile/01H…).")), page.T("Link"), "card", "link"))}
            {Form(page.For("contact"), $"{here}/contact", Html.Of($"""
                {Field(page.For("contact"), "email", page.T("Email"), page.For("contact").Form("email"), "email")}
                {Field(page.For("contact"), "phoneNumber", page.T("Phone number"), page.For("contact").Form("phoneNumber"), "tel", page.T("Leave a field empty to keep it."))}
                """), page.T("Save contact details"), "card", "contact")}
            </div>
            <h2>{page.T("Properties as synced to Klaviyo")}</h2>
            {(friend.IsLinked ? Table([page.T("Property"), page.T("Value")], properties, "") : Html.Of($"""<p class="empty">{page.T("Written once the friend is linked to a Klaviyo profile.")}</p>"""))}
            <h2 id="diagnosis">{page.T("Diagnosis")}</h2>
            {Table([page.T("Check"), page.T("Result"), page.T("Detail")], checks.Select(c => Html.Of($"<tr><td>{c.Name}</td><td>{Status(c.Ok ? "OK" : "No")}</td><td>{c.Detail}</td></tr>")), "")}
            <h2>{page.T("Sends")}</h2>
            {SendTable(page, workspaceId, log)}
            """);
        return PageLayout.Render(page, friend.DisplayName ?? friend.UserId, body, nav);
    }

    public static async Task<IResult> SendLog(HttpContext http, string workspaceId, string? recipient, string? status, WorkspaceStore workspaces, LineSendStore sends, CancellationToken ct)
    {
        var page = new PageContext(http);
        if (await WorkspacePages.NavAsync(workspaces, workspaceId, null, ct) is not { } nav) return WorkspacePages.NoSuchWorkspace(page);
        if (!string.IsNullOrEmpty(recipient) && !Ids.IsLineUserId(recipient)) page.Errors["recipient"] = [page.T("A LINE user ID is U followed by 32 lower-case hexadecimal characters.")];
        var chosen = Enum.TryParse<SendStatus>(status, true, out var parsed) ? parsed : (SendStatus?)null;
        var log = page.Errors.Count > 0 ? [] : (await FlowSettingsEndpoints.ListSends(workspaceId, string.IsNullOrEmpty(recipient) ? null : recipient, chosen, sends, ct)).Value!;
        var statuses = new[] { ("", page.T("any")) }.Concat(Enum.GetNames<SendStatus>().Select(s => (s, s)));
        var body = Html.Of($"""
            <form method="get" class="card">{Field(page, "recipient", page.T("LINE user ID"), recipient, "search")}{Select(page, "status", page.T("Status"), statuses, chosen?.ToString() ?? "")}
            <button type="submit">{page.T("Filter")}</button></form>
            {SendTable(page, workspaceId, log.Take(200))}
            """);
        return PageLayout.Render(page, page.T("Send log"), body, nav);
    }

    private static Html SendTable(PageContext page, string workspaceId, IEnumerable<FlowSettingsEndpoints.SendView> sends) => Table(
        [page.T("Created"), page.T("Recipient"), page.T("Source"), page.T("Status"), page.T("Reason"), page.T("Opened"), page.T("Clicks")],
        sends.Select(s => Html.Of($"""
            <tr><td>{When(s.CreatedAt)}</td><td><a href="{PageContext.Url($"/w/{workspaceId}/a/{s.AccountId}/friends/{s.Recipient}#diagnosis")}" title="{page.T("Diagnosis")}"><code>{s.Recipient}</code></a></td>
            <td>{s.Source} {s.MessageRef}</td><td>{Status(s.Status.ToString())}</td><td>{s.Reason}</td><td>{When(s.OpenedAt)}</td><td>{s.ClickedLinks.Count}</td></tr>
            """)), page.T("No send yet."));
}
