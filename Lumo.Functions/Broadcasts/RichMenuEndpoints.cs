using System.Text.Json.Nodes;
using Lumo.Core.Line;
using Lumo.Core.RichMenus;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.Broadcasts;

/// <summary>
/// Rich menus of a LINE account: upload (definition and image, checked against LINE's rules first), make one the
/// default, assign one to a Lumo Segment with a priority, and sync the links now (a timer does it every 15 minutes).
/// </summary>
public static class RichMenuEndpoints
{
    public sealed record SizeDraft(int? Width, int? Height);
    /// <summary><c>image</c> is the JPEG or PNG, base64-encoded, exactly <c>size</c> pixels.</summary>
    public sealed record RichMenuCreation(string? Name, string? ChatBarText, SizeDraft? Size, JsonArray? Areas, string? Image, string? SegmentId, int? Priority);
    public sealed record Assignment(string? SegmentId, int? Priority);
    public sealed record RichMenuView(string Id, string Name, string ChatBarText, int Width, int Height, JsonArray Areas, string LineRichMenuId, string? SegmentId,
        int Priority, bool IsDefault, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public static RouteGroupBuilder MapRichMenuEndpoints(this RouteGroupBuilder manage)
    {
        var menus = manage.MapGroup("/workspaces/{workspaceId}/accounts/{accountId}/rich-menus").WithTags("Rich menus");
        menus.MapGet("/", List);
        menus.MapPost("/", Create);
        menus.MapGet("/sync", LastSync);
        menus.MapPost("/sync", SyncNow);
        menus.MapGet("/{menuId}", Get);
        menus.MapPut("/{menuId}/assignment", Assign);
        menus.MapPost("/{menuId}/default", MakeDefault);
        menus.MapDelete("/{menuId}", Delete);
        return manage;
    }

    public static async Task<Results<Ok<List<RichMenuView>>, ProblemHttpResult>> List(string workspaceId, string accountId, WorkspaceStore workspaces, RichMenuStore store,
        CancellationToken ct)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is null) return AdminProblems.AccountNotFound(workspaceId, accountId);
        return TypedResults.Ok((await store.ListAsync(workspaceId, accountId, ct)).Select(View).ToList());
    }

    public static async Task<Results<Created<RichMenuView>, ValidationProblem, ProblemHttpResult>> Create(string workspaceId, string accountId, RichMenuCreation draft,
        RichMenuAdministration admin, CancellationToken ct)
    {
        RichMenu? menu;
        Dictionary<string, string[]>? errors;
        try
        {
            (menu, errors) = await admin.CreateAsync(workspaceId, accountId, new RichMenuDraft(draft.Name, draft.ChatBarText, draft.Size?.Width, draft.Size?.Height,
                draft.Areas, draft.Image, draft.SegmentId, draft.Priority), ct);
        }
        catch (LineApiException e)
        {
            return LineRefused(e);
        }
        if (errors is not null) return TypedResults.ValidationProblem(errors);
        if (menu is null) return AdminProblems.AccountNotFound(workspaceId, accountId);
        return TypedResults.Created($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{accountId}/rich-menus/{menu.Id}", View(menu));
    }

    public static async Task<Results<Ok<RichMenuView>, ProblemHttpResult>> Get(string workspaceId, string accountId, string menuId, RichMenuStore store, CancellationToken ct) =>
        await store.GetIfExistsAsync(workspaceId, accountId, menuId, ct) is { } menu ? TypedResults.Ok(View(menu)) : NotFound(menuId);

    /// <summary>Assigns the menu to a segment (<c>segmentId</c> null: to none) with a priority (1 wins over 2); queues a sync.</summary>
    public static async Task<Results<Ok<RichMenuView>, ValidationProblem, ProblemHttpResult>> Assign(string workspaceId, string accountId, string menuId, Assignment assignment,
        RichMenuStore store, RichMenuAdministration admin, CancellationToken ct)
    {
        if (await store.GetIfExistsAsync(workspaceId, accountId, menuId, ct) is not { } menu) return NotFound(menuId);
        var (saved, errors) = await admin.AssignAsync(menu, assignment.SegmentId, assignment.Priority, ct);
        return errors is not null ? TypedResults.ValidationProblem(errors) : TypedResults.Ok(View(saved!));
    }

    public static async Task<Results<Ok<RichMenuView>, ProblemHttpResult>> MakeDefault(string workspaceId, string accountId, string menuId, RichMenuStore store,
        RichMenuAdministration admin, CancellationToken ct)
    {
        if (await store.GetIfExistsAsync(workspaceId, accountId, menuId, ct) is not { } menu) return NotFound(menuId);
        try
        {
            return TypedResults.Ok(View(await admin.MakeDefaultAsync(menu, ct)));
        }
        catch (LineApiException e)
        {
            return LineRefused(e);
        }
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string workspaceId, string accountId, string menuId, RichMenuStore store,
        RichMenuAdministration admin, CancellationToken ct)
    {
        if (await store.GetIfExistsAsync(workspaceId, accountId, menuId, ct) is not { } menu) return NotFound(menuId);
        try
        {
            await admin.DeleteAsync(menu, ct);
        }
        catch (LineApiException e)
        {
            return LineRefused(e);
        }
        return TypedResults.NoContent();
    }

    /// <summary>Queues a sync of every friend's menu with the segments now.</summary>
    public static async Task<Results<Accepted, ProblemHttpResult>> SyncNow(string workspaceId, string accountId, WorkspaceStore workspaces, RichMenuAdministration admin,
        CancellationToken ct)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is null) return AdminProblems.AccountNotFound(workspaceId, accountId);
        await admin.RequestSyncAsync(workspaceId, accountId, ct);
        return TypedResults.Accepted($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{accountId}/rich-menus/sync");
    }

    /// <summary>The latest sync: when, how many users were linked, unlinked or left as they were, and any problem.</summary>
    public static async Task<Results<Ok<RichMenuSyncRun>, NoContent>> LastSync(string workspaceId, string accountId, RichMenuStore store, CancellationToken ct) =>
        await store.GetLastSyncIfAnyAsync(workspaceId, accountId, ct) is { } run ? TypedResults.Ok(run) : TypedResults.NoContent();

    private static RichMenuView View(RichMenu m) => new(m.Id, m.Name, m.ChatBarText, m.Width, m.Height, m.Areas, m.LineRichMenuId, m.SegmentId, m.Priority, m.IsDefault,
        m.CreatedAt, m.UpdatedAt);

    // LINE's own refusal (its rules beyond ours, a rate limit, an outage) told as it is: 400 stays 400, the rest is LINE's trouble.
    private static ProblemHttpResult LineRefused(LineApiException e) =>
        TypedResults.Problem(statusCode: e.Status is 400 or 429 ? e.Status : StatusCodes.Status502BadGateway, title: "LINE refused the rich menu",
            detail: $"{e.Status} {e.Message} {string.Join("; ", e.Details)}".Trim());

    private static ProblemHttpResult NotFound(string menuId) => AdminProblems.NotFound("Rich menu not found", $"This LINE account has no rich menu '{menuId}'.");
}
