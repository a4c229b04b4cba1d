using System.Text.Json;
using System.Text.Json.Nodes;
using Lumo.Core.AutoSendMessages;
using Lumo.Core.FlowSends;
using Lumo.Core.ProductCards;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.Http.HttpResults;
using static Lumo.Functions.AdminPage.Components;

namespace Lumo.Functions.AdminPage.Pages;

/// <summary>Auto Send Messages: list, create and edit, Get JSON for a chosen LINE account, and a test send.</summary>
public static class MessagePages
{
    private const string NewMessageExample = """
        [
          { "type": "text", "text": "Hello {{first_name}}, your cart is waiting: https://example.com/cart" }
        ]
        """;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Map(RouteGroupBuilder page)
    {
        page.MapGet("/w/{workspaceId}/messages", List);
        page.MapPost("/w/{workspaceId}/messages", Create);
        page.MapGet("/w/{workspaceId}/messages/{messageId}", Show);
        page.MapPost("/w/{workspaceId}/messages/{messageId}", Replace);
        page.MapPost("/w/{workspaceId}/messages/{messageId}/test-send", TestSend);
    }

    public static Task<IResult> List(HttpContext http, string workspaceId, WorkspaceStore workspaces, AutoSendMessageStore store, CancellationToken ct) =>
        RenderList(new PageContext(http), workspaceId, workspaces, store, ct);

    public static async Task<IResult> Create(HttpContext http, string workspaceId, WorkspaceStore workspaces, AutoSendMessageStore store, TimeProvider clock, CancellationToken ct)
    {
        var page = new PageContext(http);
        if (Draft(page) is { } draft)
        {
            var result = await AutoSendMessageEndpoints.Create(workspaceId, draft, workspaces, store, clock, ct);
            if (result.Result is Created<AutoSendMessageEndpoints.MessageView> created) return PageContext.Redirect($"/w/{workspaceId}/messages/{created.Value!.Id}", "message-created");
            page.TookProblem(result.Result);
        }
        return await RenderList(page, workspaceId, workspaces, store, ct);
    }

    public static Task<IResult> Show(HttpContext http, string workspaceId, string messageId, WorkspaceStore workspaces, AutoSendMessageStore store, CancellationToken ct) =>
        RenderMessage(new PageContext(http), workspaceId, messageId, workspaces, store, ct);

    public static async Task<IResult> Replace(HttpContext http, string workspaceId, string messageId, WorkspaceStore workspaces, AutoSendMessageStore store, TimeProvider clock,
        CancellationToken ct)
    {
        var page = new PageContext(http);
        if (Draft(page) is { } draft)
        {
            var result = await AutoSendMessageEndpoints.Replace(workspaceId, messageId, draft, store, clock, ct);
            if (!page.TookProblem(result.Result)) return PageContext.Redirect($"/w/{workspaceId}/messages/{messageId}", "saved");
        }
        return await RenderMessage(page, workspaceId, messageId, workspaces, store, ct);
    }

    public static async Task<IResult> TestSend(HttpContext http, string workspaceId, string messageId, WorkspaceStore workspaces, AutoSendMessageStore store, FlowSendIntake intake,
        ProductCardPreview preview, CancellationToken ct)
    {
        var page = new PageContext(http);
        var accountId = page.Form("account");
        if (accountId is null || (await workspaces.ListAccountsAsync(workspaceId, ct)).All(a => a.Id != accountId))
            page.Fail(page.T("Choose a LINE account of this workspace."));
        else if (ParseObject(page, "variables") is { } variables && ParseEvent(page) is var (ok, triggerEvent) && ok)
        {
            var draft = new DiagnosisEndpoints.TestSendDraft(page.Form("userId"), messageId, variables, triggerEvent);
            var result = await DiagnosisEndpoints.TestSend(workspaceId, accountId, draft, intake, preview, ct);
            if (!page.TookProblem(result.Result)) return PageContext.Redirect($"/w/{workspaceId}/sends?recipient={Uri.EscapeDataString(page.Form("userId") ?? "")}", "test-sent");
        }
        return await RenderMessage(page, workspaceId, messageId, workspaces, store, ct);
    }

    // The form's text fields read as the JSON the admin API takes; text that is not JSON is an error of its field.
    private static AutoSendMessageEndpoints.MessageDraft? Draft(PageContext page)
    {
        JsonArray? messages = null;
        try { messages = JsonNode.Parse(page.Form("messages") ?? "") as JsonArray; }
        catch (JsonException) { }
        if (messages is null)
        {
            page.Errors["messages"] = [page.T("Messages are a JSON array of LINE message objects, for example [{\"type\": \"text\", \"text\": \"Hello\"}].")];
            return null;
        }
        return new AutoSendMessageEndpoints.MessageDraft(page.Form("name"), messages, page.Form("trackOpensAndClicks") == "true");
    }

    private static Dictionary<string, string>? ParseObject(PageContext page, string field)
    {
        var text = page.Form(field);
        if (string.IsNullOrWhiteSpace(text)) return [];
        try { return JsonSerializer.Deserialize<Dictionary<string, string>>(text); }
        catch (JsonException)
        {
            page.Errors[field] = [page.T("Variables are a JSON object of names and texts, for example {\"first_name\": \"Aiko\"}.")];
            return null;
        }
    }

    // A product card's trigger event: the properties of a Klaviyo event, as JSON; empty means none.
    private static (bool Ok, JsonObject? Event) ParseEvent(PageContext page)
    {
        var text = page.Form("event");
        if (string.IsNullOrWhiteSpace(text)) return (true, null);
        try { if (JsonNode.Parse(text) is JsonObject properties) return (true, properties); }
        catch (JsonException) { }
        page.Errors["event"] = [page.T("The trigger event is a JSON object: the event's properties as Klaviyo shows them.")];
        return (false, null);
    }

    private static async Task<IResult> RenderList(PageContext page, string workspaceId, WorkspaceStore workspaces, AutoSendMessageStore store, CancellationToken ct)
    {
        if (await WorkspacePages.NavAsync(workspaces, workspaceId, null, ct) is not { } nav) return WorkspacePages.NoSuchWorkspace(page);
        var messages = (await AutoSendMessageEndpoints.List(workspaceId, store, ct)).Value!;
        var rows = messages.Select(m => Html.Of($"""
            <tr><td><a href="{PageContext.Url($"/w/{workspaceId}/messages/{m.Id}")}">{m.Name}</a></td><td>{string.Join(", ", m.Variables)}</td>
            <td>{(m.TrackOpensAndClicks ? page.T("on") : page.T("off"))}</td><td>{When(m.UpdatedAt)}</td></tr>
            """));
        var body = Html.Of($"""
            {Table([page.T("Name"), page.T("Variables"), page.T("Tracking"), page.T("Updated")], rows, page.T("No Auto Send Message yet."))}
            <h2>{page.T("New Auto Send Message")}</h2>
            {Form(page, PageContext.Url($"/w/{workspaceId}/messages"), Fields(page, null), page.T("Create message"), "card")}
            """);
        return PageLayout.Render(page, page.T("Auto Send Messages"), body, nav);
    }

    private static Html Fields(PageContext page, AutoSendMessageEndpoints.MessageView? message) => Html.Of($"""
        {Field(page, "name", page.T("Name"), page.Form("name") ?? message?.Name, required: true)}
        {TextArea(page, "messages", page.T("LINE messages (JSON)"), page.Form("messages") ?? message?.Messages.ToJsonString(Indented) ?? NewMessageExample, 10,
            page.T("Up to 5 LINE message objects. {{name}} is a variable that the Flow fills in."))}
        {Checkbox(page, "trackOpensAndClicks", page.T("Track opens and clicks"), page.Form("name") is null ? message?.TrackOpensAndClicks ?? true : page.Form("trackOpensAndClicks") == "true")}
        """);

    private static async Task<IResult> RenderMessage(PageContext page, string workspaceId, string messageId, WorkspaceStore workspaces, AutoSendMessageStore store, CancellationToken ct)
    {
        var account = page.Form("account") ?? page.Http.Request.Query["account"].FirstOrDefault();
        if (await WorkspacePages.NavAsync(workspaces, workspaceId, account, ct) is not { } nav) return WorkspacePages.NoSuchWorkspace(page);
        if ((await AutoSendMessageEndpoints.Get(workspaceId, messageId, store, ct)).Result is not Ok<AutoSendMessageEndpoints.MessageView> { Value: { } message })
            return WorkspacePages.NotFound(page, page.T("There is no such Auto Send Message."));
        var json = nav.Account is null ? null
            : (await AutoSendMessageEndpoints.GetFlowJson(workspaceId, messageId, nav.Account.Id, page.Http.Request, workspaces, store, ct)).Result as Ok<AutoSendMessageEndpoints.FlowJsonView>;
        var (edit, test) = (page.For("edit"), page.For("test"));
        var accountOptions = nav.Accounts.Select(a => (a.Id, a.Name)).ToList();
        var variables = test.Form("variables") ?? JsonSerializer.Serialize(message.Variables.ToDictionary(v => v, _ => ""), Indented);
        var body = Html.Of($"""
            <h2>{page.T("Get JSON")}</h2>
            <form method="get" class="actions">{Select(page.For("account"), "account", page.T("LINE account"), accountOptions, nav.Account?.Id)}<button type="submit" class="secondary">{page.T("Show JSON")}</button></form>
            {(json?.Value is { } flow ? Html.Of($"""
                <dl><dt>{page.T("Destination URL")}</dt><dd>{Copyable(page, flow.DestinationUrl, page.T("Destination URL"))}</dd><dt>{page.T("Header name")}</dt><dd>{flow.HeaderName}</dd></dl>
                <pre id="flow-json">{flow.Body}</pre>{Copyable(page, flow.Body, "JSON")}
                """) : Html.Of($"""<p class="empty">{page.T("Connect a LINE account first.")}</p>"""))}
            <h2>{page.T("Test send")}</h2>
            {Form(test, PageContext.Url($"/w/{workspaceId}/messages/{messageId}/test-send"), Html.Of($"""
                <input type="hidden" name="account" value="{nav.Account?.Id}">
                {Field(test, "userId", page.T("LINE user ID"), test.Form("userId"), hint: page.T("A friend of the chosen LINE account who is linked to a Klaviyo profile."), required: true)}
                {TextArea(test, "variables", page.T("Variables (JSON)"), variables, 4)}
                {TextArea(test, "event", page.T("Trigger event (JSON)"), test.Form("event") ?? "", 4, page.T("For a product card: the properties of a Klaviyo event (for example Checkout Started) to take the products from."))}
                """), page.T("Send test"), "card", "test")}
            <h2>{page.T("Edit")}</h2>
            {Form(edit, PageContext.Url($"/w/{workspaceId}/messages/{messageId}"), Fields(edit, message), page.T("Save"), "card", "edit")}
            """);
        return PageLayout.Render(page, message.Name, body, nav);
    }
}
