using Lumo.Core.IdLinkage;
using Lumo.Core.Secrets;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Lumo.Functions.Admin;

/// <summary>
/// ID linkage settings of a LINE account (LINE Login channel, Form ID linkage, existing-ID import), its custom QR
/// codes, and the import's sync history.
/// </summary>
public static class IdLinkageEndpoints
{
    public sealed record FormView(string FormId, string CtaLabel, bool FlowControlled, string LandingPageEmbedCode, string SuccessScreenButtonUrl, string? FormLinkageCallbackUrl);
    public sealed record ImportView(string SegmentId, string LineUserIdProperty, string Schedule);
    public sealed record LinkingTokensView(string SegmentId, string Property, int Version, string Schedule, LinkingTokenPass? LastPass);
    public sealed record SettingsView(string? LoginChannelId, bool LoginChannelSecretSet, string LoginCallbackUrl, FormView? Form, ImportView? Import,
        LinkingTokensView? LinkingTokens, DateTimeOffset UpdatedAt);
    public sealed record SettingsDraft(string? LoginChannelId, string? LoginChannelSecret, FormDraft? Form, ImportDraft? Import, LinkingTokensDraft? LinkingTokens);
    public sealed record FormDraft(string? FormId, string? CtaLabel, bool FlowControlled);
    public sealed record ImportDraft(string? SegmentId, string? LineUserIdProperty);
    public sealed record LinkingTokensDraft(string? SegmentId);
    /// <summary>A new code refuses unsigned linking URLs unless <c>SignedUrlsOnly</c> is false.</summary>
    public sealed record QrCodeDraft(string? Name, List<string>? Signals, bool? SignedUrlsOnly);
    public sealed record QrCodeChange(bool? SignedUrlsOnly);
    public sealed record QrCodeView(string Id, string Name, List<string> Signals, bool SignedUrlsOnly, string LinkingUrl, string QrImageUrl, string QrImagePreviewUrl,
        DateTimeOffset CreatedAt);

    /// <summary>Klaviyo profile variables, URL-encoded, for Klaviyo to fill in per recipient.</summary>
    public const string EmailVariable = "{{ email|urlencode }}";
    public const string PhoneVariable = "{{ phone_number|urlencode }}";
    /// <summary>The recipient's linking token, as Lumo wrote it on the profile (empty when it has none yet).</summary>
    public static string TokenVariable(LinePropertyNames names) => $"{{{{ person|lookup:'{names.LinkingToken}'|default:''|urlencode }}}}";

    public static RouteGroupBuilder MapIdLinkageEndpoints(this RouteGroupBuilder manage)
    {
        var account = manage.MapGroup("/workspaces/{workspaceId}/accounts/{accountId}").WithTags("ID linkage");
        account.MapGet("/id-linkage", GetSettings);
        account.MapPut("/id-linkage", SaveSettings);
        account.MapGet("/id-linkage/imports", ListImports);
        account.MapPost("/id-linkage/imports", RunImport);
        account.MapPost("/id-linkage/linking-tokens", RunLinkingTokens);
        account.MapPost("/id-linkage/linking-tokens/rotate", RotateLinkingTokens);
        account.MapGet("/qr-codes", ListQrCodes);
        account.MapPost("/qr-codes", CreateQrCode);
        account.MapGet("/qr-codes/{codeId}", GetQrCode);
        account.MapPatch("/qr-codes/{codeId}", ChangeQrCode);
        account.MapDelete("/qr-codes/{codeId}", DeleteQrCode);
        account.MapGet("/qr-codes/{codeId}/qr.png", QrCodePreview);
        return manage;
    }

    public static async Task<Results<Ok<SettingsView>, ProblemHttpResult>> GetSettings(string workspaceId, string accountId, WorkspaceStore workspaces,
        IdLinkageSettingsStore store, ISecretStore secrets, LinkingTokenPasses passes, IOptions<IdLinkageOptions> options, HttpResponse response, CancellationToken ct)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is not { } account) return AdminProblems.AccountNotFound(workspaceId, accountId);
        var settings = await store.GetIfExistsAsync(workspaceId, accountId, ct) ?? new IdLinkageSettings { WorkspaceId = workspaceId, AccountId = accountId };
        if (settings.ETag is not null) response.Headers.ETag = settings.ETag;
        var secretSet = await secrets.GetIfExistsAsync(SecretNames.LoginChannelSecret(workspaceId, accountId), ct) is not null;
        return TypedResults.Ok(View(settings, account, secretSet, await passes.GetIfExistsAsync(workspaceId, accountId, ct), options.Value));
    }

    /// <summary>Replaces the settings (If-Match optional). The form must be live in Klaviyo and the segment must exist.</summary>
    public static async Task<Results<Ok<SettingsView>, ValidationProblem, ProblemHttpResult>> SaveSettings(string workspaceId, string accountId, SettingsDraft draft,
        [FromHeader(Name = "If-Match")] string? ifMatch, IdLinkageAdministration admin, WorkspaceStore workspaces, LinkingTokenPasses passes, IOptions<IdLinkageOptions> options,
        HttpResponse response, CancellationToken ct)
    {
        try
        {
            var (settings, errors) = await admin.SaveAsync(workspaceId, accountId, new IdLinkageDraft(Blank(draft.LoginChannelId), Blank(draft.LoginChannelSecret),
                Blank(draft.Form?.FormId), draft.Form?.FormId is null ? null : draft.Form.CtaLabel?.Trim(), draft.Form?.FlowControlled ?? false,
                Blank(draft.Import?.SegmentId), Blank(draft.Import?.LineUserIdProperty), Blank(draft.LinkingTokens?.SegmentId)), ifMatch, ct);
            if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
            if (settings is null || await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is not { } account) return AdminProblems.AccountNotFound(workspaceId, accountId);
            response.Headers.ETag = settings.ETag;
            return TypedResults.Ok(View(settings, account, settings.LoginChannelId is not null, await passes.GetIfExistsAsync(workspaceId, accountId, ct), options.Value));
        }
        catch (EditConflictException e)
        {
            return AdminProblems.PreconditionFailed(e);
        }
    }

    public static async Task<Results<Ok<List<LinkImportRun>>, ProblemHttpResult>> ListImports(string workspaceId, string accountId, WorkspaceStore workspaces,
        LinkImportHistory history, CancellationToken ct) =>
        await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is null
            ? AdminProblems.AccountNotFound(workspaceId, accountId)
            : TypedResults.Ok(await history.ListAsync(workspaceId, accountId, 50, ct));

    /// <summary>Runs the existing-ID import now instead of waiting for the next quarter hour.</summary>
    public static async Task<Results<Accepted, ProblemHttpResult>> RunImport(string workspaceId, string accountId, IdLinkageSettingsStore store, LumoQueues queues, CancellationToken ct)
    {
        if (await store.GetIfExistsAsync(workspaceId, accountId, ct) is not { ImportConfigured: true })
            return TypedResults.Problem(statusCode: 409, title: "No import configured", detail: "Set a source segment and the LINE User ID property first.");
        await queues.EnqueueAsync(QueueNames.LineUserIdImports, new LineUserIdImportRequest(workspaceId, accountId), ct);
        return TypedResults.Accepted($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{accountId}/id-linkage/imports");
    }

    /// <summary>Writes linking tokens to the segment's new members now instead of waiting for the next quarter hour.</summary>
    public static async Task<Results<Accepted, ProblemHttpResult>> RunLinkingTokens(string workspaceId, string accountId, IdLinkageSettingsStore store, LumoQueues queues,
        TimeProvider clock, CancellationToken ct)
    {
        if (await store.GetIfExistsAsync(workspaceId, accountId, ct) is not { LinkingTokenSegmentId: not null })
            return TypedResults.Problem(statusCode: 409, title: "No linking-token segment", detail: "Set the segment whose members receive linking URLs first (linkingTokens.segmentId).");
        await queues.EnqueueAsync(QueueNames.LinkingTokens, new LinkingTokenRequest(workspaceId, accountId, clock.GetUtcNow()), ct);
        return TypedResults.Accepted($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{accountId}/id-linkage");
    }

    /// <summary>Replaces every linking token of the account: linking URLs sent before stop linking; a pass writes the new tokens now.</summary>
    public static async Task<Results<Accepted, ProblemHttpResult>> RotateLinkingTokens(string workspaceId, string accountId, IdLinkageAdministration admin, LumoQueues queues,
        TimeProvider clock, CancellationToken ct)
    {
        try
        {
            if (await admin.RotateLinkingTokensAsync(workspaceId, accountId, ct) is null)
                return TypedResults.Problem(statusCode: 409, title: "No linking-token segment", detail: "There are no linking tokens to rotate: set linkingTokens.segmentId first.");
        }
        catch (EditConflictException e)
        {
            return AdminProblems.PreconditionFailed(e);
        }
        await queues.EnqueueAsync(QueueNames.LinkingTokens, new LinkingTokenRequest(workspaceId, accountId, clock.GetUtcNow()), ct);
        return TypedResults.Accepted($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{accountId}/id-linkage");
    }

    public static async Task<Results<Ok<List<QrCodeView>>, ProblemHttpResult>> ListQrCodes(string workspaceId, string accountId, WorkspaceStore workspaces,
        LinkQrCodeStore codes, IOptions<IdLinkageOptions> options, CancellationToken ct) =>
        await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is not { } account
            ? AdminProblems.AccountNotFound(workspaceId, accountId)
            : TypedResults.Ok((await codes.ListAsync(workspaceId, accountId, ct)).Select(c => View(c, account, options.Value)).ToList());

    /// <summary>
    /// Saves a QR code and issues its linking URL (with Klaviyo merge variables and the recipient's linking token) and
    /// QR image URLs. A code that refuses unsigned URLs (the default) needs a linking-token segment.
    /// </summary>
    public static async Task<Results<Created<QrCodeView>, ValidationProblem, ProblemHttpResult>> CreateQrCode(string workspaceId, string accountId, QrCodeDraft draft,
        WorkspaceStore workspaces, IdLinkageSettingsStore settings, LinkQrCodeStore codes, IOptions<IdLinkageOptions> options, TimeProvider clock, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var signals = draft.Signals ?? [];
        var signedOnly = draft.SignedUrlsOnly ?? true;
        if (string.IsNullOrWhiteSpace(draft.Name) || draft.Name.Trim().Length > 100) errors["name"] = ["Give the QR code a name of up to 100 characters."];
        if (signals.Count == 0 || signals.Any(s => s is not ("email" or "phone")) || signals.Distinct().Count() != signals.Count)
            errors["signals"] = ["Choose the signals that identify the Klaviyo profile: \"email\", \"phone\", or both."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is not { } account) return AdminProblems.AccountNotFound(workspaceId, accountId);
        if (signedOnly && await LinkingTokensMissingAsync(settings, workspaceId, accountId, ct) is { } problem) return problem;
        var code = await codes.AddAsync(new LinkQrCode
        {
            Id = Guid.NewGuid().ToString("N")[..12], WorkspaceId = workspaceId, AccountId = accountId, Name = draft.Name!.Trim(),
            UsesEmail = signals.Contains("email"), UsesPhone = signals.Contains("phone"), SignedUrlsOnly = signedOnly, CreatedAt = clock.GetUtcNow(),
        }, ct);
        var view = View(code, account, options.Value);
        return TypedResults.Created($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{accountId}/qr-codes/{code.Id}", view);
    }

    public static async Task<Results<Ok<QrCodeView>, ProblemHttpResult>> GetQrCode(string workspaceId, string accountId, string codeId, WorkspaceStore workspaces,
        LinkQrCodeStore codes, IOptions<IdLinkageOptions> options, CancellationToken ct) =>
        await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is { } account && await codes.GetIfExistsAsync(workspaceId, accountId, codeId, ct) is { } code
            ? TypedResults.Ok(View(code, account, options.Value))
            : QrCodeNotFound(codeId);

    /// <summary>
    /// Switches a code between refusing and accepting unsigned linking URLs: codes made before linking tokens accept
    /// them until their templates carry the token (README, "Migrating QR codes to signed linking URLs").
    /// </summary>
    public static async Task<Results<Ok<QrCodeView>, ValidationProblem, ProblemHttpResult>> ChangeQrCode(string workspaceId, string accountId, string codeId, QrCodeChange change,
        WorkspaceStore workspaces, IdLinkageSettingsStore settings, LinkQrCodeStore codes, IOptions<IdLinkageOptions> options, CancellationToken ct)
    {
        if (change.SignedUrlsOnly is not { } signedOnly)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["signedUrlsOnly"] = ["Say whether the code refuses unsigned linking URLs: true or false."] });
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is not { } account || await codes.GetIfExistsAsync(workspaceId, accountId, codeId, ct) is not { } code)
            return QrCodeNotFound(codeId);
        if (signedOnly && await LinkingTokensMissingAsync(settings, workspaceId, accountId, ct) is { } problem) return problem;
        if (!await codes.SetSignedUrlsOnlyAsync(code, signedOnly, ct)) return QrCodeNotFound(codeId);
        return TypedResults.Ok(View(code with { SignedUrlsOnly = signedOnly }, account, options.Value));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteQrCode(string workspaceId, string accountId, string codeId, LinkQrCodeStore codes, CancellationToken ct) =>
        await codes.DeleteAsync(workspaceId, accountId, codeId, ct) ? TypedResults.NoContent() : QrCodeNotFound(codeId);

    /// <summary>The QR image of the linking URL with the merge variables still in it: a preview, not for print.</summary>
    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> QrCodePreview(string workspaceId, string accountId, string codeId, WorkspaceStore workspaces,
        LinkQrCodeStore codes, IOptions<IdLinkageOptions> options, CancellationToken ct) =>
        await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is { } account && await codes.GetIfExistsAsync(workspaceId, accountId, codeId, ct) is { } code
            ? TypedResults.File(QrImages.Png(View(code, account, options.Value).LinkingUrl), "image/png")
            : QrCodeNotFound(codeId);

    // Without a linking-token segment nobody holds a token, and a code that refuses unsigned URLs would link nobody.
    private static async Task<ProblemHttpResult?> LinkingTokensMissingAsync(IdLinkageSettingsStore settings, string workspaceId, string accountId, CancellationToken ct) =>
        await settings.GetIfExistsAsync(workspaceId, accountId, ct) is { LinkingTokenSegmentId: not null }
            ? null
            : TypedResults.Problem(statusCode: 409, title: "No linking tokens yet",
                detail: "A code that refuses unsigned linking URLs needs linking tokens: set linkingTokens.segmentId in the ID linkage settings first (or create the code with signedUrlsOnly false).");

    private static ProblemHttpResult QrCodeNotFound(string codeId) => AdminProblems.NotFound("QR code not found", $"There is no QR code '{codeId}' on this LINE account.");

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static QrCodeView View(LinkQrCode code, LineAccount account, IdLinkageOptions options)
    {
        var query = string.Join("&", new[] { code.UsesEmail ? $"email={EmailVariable}" : null, code.UsesPhone ? $"phone={PhoneVariable}" : null,
            $"t={TokenVariable(account.PropertyNames)}" }.OfType<string>());
        var path = $"/api/link/{code.WorkspaceId}/{code.AccountId}/qr/{code.Id}";
        return new QrCodeView(code.Id, code.Name, new[] { code.UsesEmail ? "email" : null, code.UsesPhone ? "phone" : null }.OfType<string>().ToList(), code.SignedUrlsOnly,
            options.Url($"{path}?{query}").ToString(), options.Url($"{path}/qr.png?{query}").ToString(),
            $"{ManageApi.RoutePrefix}/workspaces/{code.WorkspaceId}/accounts/{code.AccountId}/qr-codes/{code.Id}/qr.png", code.CreatedAt);
    }

    private static SettingsView View(IdLinkageSettings s, LineAccount account, bool secretSet, LinkingTokenPass? lastPass, IdLinkageOptions options)
    {
        var formPath = $"/api/link/{s.WorkspaceId}/{s.AccountId}/form";
        var form = s.FormId is null ? null : new FormView(s.FormId, s.FormCtaLabel ?? "Connect LINE", s.FormFlowControlled,
            $"<script src=\"{options.Url(formPath + ".js")}\" async></script>", options.Url(formPath).ToString(),
            s.FormFlowControlled ? options.Url($"/api/flow/{s.WorkspaceId}/form-linkage").ToString() : null);
        var import = s.ImportConfigured ? new ImportView(s.ImportSegmentId!, s.ImportUserIdProperty!, "every 15 minutes") : null;
        var tokens = s.LinkingTokenSegmentId is { } segmentId
            ? new LinkingTokensView(segmentId, account.PropertyNames.LinkingToken, s.LinkingTokenVersion, "every 15 minutes", lastPass?.SegmentId == segmentId ? lastPass : null)
            : null;
        return new SettingsView(s.LoginChannelId, secretSet, options.CallbackUrl.ToString(), form, import, tokens, s.UpdatedAt);
    }
}
