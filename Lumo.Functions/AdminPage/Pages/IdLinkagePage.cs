using Lumo.Core.IdLinkage;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using static Lumo.Functions.AdminPage.Components;
using static Lumo.Functions.Admin.IdLinkageEndpoints;

namespace Lumo.Functions.AdminPage.Pages;

/// <summary>ID linkage of a LINE account: LINE Login channel, QR codes with their images, form linkage with its embed code, existing-ID import.</summary>
public static class IdLinkagePage
{
    public static void Map(RouteGroupBuilder page)
    {
        var account = page.MapGroup("/w/{workspaceId}/a/{accountId}");
        account.MapGet("/linkage", Show);
        account.MapPost("/linkage", Save);
        account.MapPost("/linkage/import", RunImportNow);
        account.MapPost("/qr-codes", CreateQrCode);
        account.MapGet("/qr-codes/{codeId}/image.png", QrImage);
    }

    public static Task<IResult> Show(HttpContext http, string workspaceId, string accountId, IServiceProvider services, CancellationToken ct) =>
        Render(new PageContext(http), workspaceId, accountId, services, ct);

    public static async Task<IResult> Save(HttpContext http, string workspaceId, string accountId, IdLinkageAdministration admin, WorkspaceStore workspaces, LinkingTokenPasses passes,
        IOptions<IdLinkageOptions> options, IServiceProvider services, CancellationToken ct)
    {
        var page = new PageContext(http);
        var formId = page.Form("formId");
        var draft = new SettingsDraft(page.Form("loginChannelId"), page.Form("loginChannelSecret"),
            string.IsNullOrWhiteSpace(formId) ? null : new FormDraft(formId, page.Form("formCtaLabel"), page.Form("formFlowControlled") == "true"),
            new ImportDraft(page.Form("importSegmentId"), page.Form("importUserIdProperty")), new LinkingTokensDraft(page.Form("linkingTokenSegmentId")));
        var result = await SaveSettings(workspaceId, accountId, draft, WorkspacePages.Blank(page.Form("etag")), admin, workspaces, passes, options, http.Response, ct);
        http.Response.Headers.ETag = default; // the page carries its own copy in the form
        return page.TookProblem(result.Result) ? await Render(page, workspaceId, accountId, services, ct) : PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/linkage", "saved");
    }

    public static async Task<IResult> RunImportNow(HttpContext http, string workspaceId, string accountId, IdLinkageSettingsStore store, LumoQueues queues, IServiceProvider services,
        CancellationToken ct)
    {
        var page = new PageContext(http);
        return page.TookProblem((await RunImport(workspaceId, accountId, store, queues, ct)).Result)
            ? await Render(page, workspaceId, accountId, services, ct) : PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/linkage", "import-queued");
    }

    public static async Task<IResult> CreateQrCode(HttpContext http, string workspaceId, string accountId, WorkspaceStore workspaces, IdLinkageSettingsStore settings,
        LinkQrCodeStore codes, IOptions<IdLinkageOptions> options, TimeProvider clock, IServiceProvider services, CancellationToken ct)
    {
        var page = new PageContext(http);
        var signals = new[] { page.Form("signals.email") == "true" ? "email" : null, page.Form("signals.phone") == "true" ? "phone" : null }.OfType<string>().ToList();
        var draft = new QrCodeDraft(page.Form("name"), signals, page.Form("signedUrlsOnly") == "true");
        var result = await IdLinkageEndpoints.CreateQrCode(workspaceId, accountId, draft, workspaces, settings, codes, options, clock, ct);
        return page.TookProblem(result.Result) ? await Render(page, workspaceId, accountId, services, ct) : PageContext.Redirect($"/w/{workspaceId}/a/{accountId}/linkage#qr-codes", "qr-created");
    }

    public static async Task<IResult> QrImage(string workspaceId, string accountId, string codeId, WorkspaceStore workspaces, LinkQrCodeStore codes, IOptions<IdLinkageOptions> options,
        CancellationToken ct) => (await QrCodePreview(workspaceId, accountId, codeId, workspaces, codes, options, ct)).Result;

    private static async Task<IResult> Render(PageContext page, string workspaceId, string accountId, IServiceProvider services, CancellationToken ct)
    {
        var workspaces = services.GetRequiredService<WorkspaceStore>();
        if (await WorkspacePages.AccountNavAsync(workspaces, workspaceId, accountId, ct) is not { Account: { } account } nav)
            return WorkspacePages.NoSuchAccount(page);
        var options = services.GetRequiredService<IOptions<IdLinkageOptions>>();
        var settingsResult = await GetSettings(workspaceId, accountId, workspaces, services.GetRequiredService<IdLinkageSettingsStore>(), services.GetRequiredService<ISecretStore>(),
            services.GetRequiredService<LinkingTokenPasses>(), options, page.Http.Response, ct);
        var etag = page.Http.Response.Headers.ETag.ToString();
        page.Http.Response.Headers.ETag = default;
        if (settingsResult.Result is not Ok<SettingsView> { Value: { } s }) return WorkspacePages.NoSuchAccount(page);
        var codes = (await ListQrCodes(workspaceId, accountId, workspaces, services.GetRequiredService<LinkQrCodeStore>(), options, ct)).Result as Ok<List<QrCodeView>>;
        var imports = (await ListImports(workspaceId, accountId, workspaces, services.GetRequiredService<LinkImportHistory>(), ct)).Result as Ok<List<LinkImportRun>>;

        var (settings, qr, import) = (page.For("settings"), page.For("qr"), page.For("import"));
        string? Sticky(string name, string? stored) => settings.Form("__form") is null ? stored : settings.Form(name);
        var codeCards = (codes?.Value ?? []).Select(c => Html.Of($"""
            <section class="qr" aria-label="{c.Name}"><h3>{c.Name}</h3><img src="{PageContext.Url($"/w/{workspaceId}/a/{accountId}/qr-codes/{c.Id}/image.png")}" alt="{page.T("QR code")}: {c.Name}">
            <dl><dt>{page.T("Signals")}</dt><dd>{string.Join(", ", c.Signals)}</dd><dt>{page.T("Signed URLs only")}</dt><dd>{(c.SignedUrlsOnly ? page.T("yes") : page.T("no"))}</dd>
            <dt>{page.T("Linking URL")}</dt><dd>{Copyable(page, c.LinkingUrl, page.T("Linking URL"))}</dd>
            <dt>{page.T("Image URL for Klaviyo")}</dt><dd>{Copyable(page, c.QrImageUrl, page.T("Image URL for Klaviyo"))}</dd></dl></section>
            """));
        var runs = (imports?.Value ?? []).Select(r => Html.Of($"""
            <tr><td>{When(r.StartedAt)}</td><td>{Status(r.Status)}</td><td>{r.Profiles}</td><td>{r.Linked}</td><td>{r.AlreadyLinked}</td><td>{r.NotFriends}</td><td>{r.Conflicts}</td><td>{r.Problem}</td></tr>
            """));
        var body = Html.Of($"""
            <h2>{page.T("Settings")}</h2>
            {Form(settings, PageContext.Url($"/w/{workspaceId}/a/{accountId}/linkage"), Html.Of($"""
                <input type="hidden" name="etag" value="{settings.Form("etag") ?? etag}">
                <h3>LINE Login</h3>
                {Field(settings, "loginChannelId", page.T("LINE Login channel ID"), Sticky("loginChannelId", s.LoginChannelId))}
                {Field(settings, "loginChannelSecret", page.T("LINE Login channel secret"), null, "password", s.LoginChannelSecretSet ? page.T("Set. Leave empty to keep it.") : null, autocomplete: "off")}
                <p class="hint">{page.T("Callback URL for the LINE Login channel")}:</p>{Copyable(page, s.LoginCallbackUrl, page.T("Callback URL"))}
                <h3>{page.T("Form ID linkage")}</h3>
                {Field(settings, "formId", page.T("Klaviyo form ID"), Sticky("formId", s.Form?.FormId), hint: page.T("A live Klaviyo sign-up form. Leave empty to switch form linkage off."))}
                {Field(settings, "formCtaLabel", page.T("Button label"), Sticky("formCtaLabel", s.Form?.CtaLabel))}
                {Checkbox(settings, "formFlowControlled", page.T("Flow-controlled (a Klaviyo Flow sends the linking step)"), settings.Form("__form") is null ? s.Form?.FlowControlled == true : settings.Form("formFlowControlled") == "true")}
                <h3>{page.T("Existing-ID import")}</h3>
                {Field(settings, "importSegmentId", page.T("Source segment ID"), Sticky("importSegmentId", s.Import?.SegmentId))}
                {Field(settings, "importUserIdProperty", page.T("Profile property holding the LINE user ID"), Sticky("importUserIdProperty", s.Import?.LineUserIdProperty))}
                <h3>{page.T("Signed linking URLs")}</h3>
                {Field(settings, "linkingTokenSegmentId", page.T("Segment whose members get linking tokens"), Sticky("linkingTokenSegmentId", s.LinkingTokens?.SegmentId))}
                """), page.T("Save settings"), "card", "settings")}
            {(s.Form is { } form ? Html.Of($"""
                <h2>{page.T("Form linkage embed code")}</h2><p>{page.T("Add this to the landing page that shows the form; use the button URL on the form's success screen.")}</p>
                {Copyable(page, form.LandingPageEmbedCode, page.T("Embed code"))}<p class="hint">{page.T("Success screen button URL")}:</p>{Copyable(page, form.SuccessScreenButtonUrl, page.T("Success screen button URL"))}
                {(form.FormLinkageCallbackUrl is { } callback ? Html.Of($"""<p class="hint">{page.T("Flow webhook URL for the linking step")}:</p>{Copyable(page, callback, page.T("Flow webhook URL"))}""") : Html.Empty)}
                """) : Html.Empty)}
            <h2 id="qr-codes">{page.T("QR codes")}</h2>
            <div class="grid">{codeCards}</div>
            {Form(qr, PageContext.Url($"/w/{workspaceId}/a/{accountId}/qr-codes"), Html.Of($"""
                {Field(qr, "name", page.T("QR code name"), qr.Form("name"), required: true)}
                <fieldset><legend>{page.T("Signals that identify the Klaviyo profile")}</legend>
                {Checkbox(qr, "signals.email", page.T("Email address"), qr.Form("__form") is null || qr.Form("signals.email") == "true")}
                {Checkbox(qr, "signals.phone", page.T("Phone number"), qr.Form("signals.phone") == "true")}{ErrorsOf(qr, "signals")}</fieldset>
                {Checkbox(qr, "signedUrlsOnly", page.T("Refuse unsigned linking URLs"), qr.Form("__form") is null ? s.LinkingTokens is not null : qr.Form("signedUrlsOnly") == "true",
                    page.T("Needs a linking-token segment (above)."))}
                """), page.T("Create QR code"), "card", "qr")}
            <h2>{page.T("Existing-ID import history")}</h2>
            {Table([page.T("Started"), page.T("Status"), page.T("Profiles"), page.T("Linked"), page.T("Already linked"), page.T("Not friends"), page.T("Conflicts"), page.T("Problem")], runs, page.T("No import has run."))}
            {Html.When(s.Import is not null, Form(import, PageContext.Url($"/w/{workspaceId}/a/{accountId}/linkage/import"), Html.Empty, page.T("Run import now"), formId: "import", buttonClass: "secondary"))}
            """);
        return PageLayout.Render(page, page.T("ID linkage") + " · " + account.Name, body, nav);
    }

    private static Html ErrorsOf(PageContext page, string field) => page.ErrorsOf(field).ToList() is { Count: > 0 } errors
        ? Html.Of($"""<p class="error" id="{page.FieldIdPrefix}{field}-error">{string.Join(" ", errors)}</p>""") : Html.Empty;
}
