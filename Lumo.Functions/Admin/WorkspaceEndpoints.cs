using Lumo.Core.Workspaces;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Lumo.Functions.Admin;

/// <summary>
/// Workspaces and their LINE Official Accounts. Single resources carry an ETag; send it back in If-Match to make
/// a change fail with 412 instead of overwriting someone else's.
/// </summary>
public static class WorkspaceEndpoints
{
    public static RouteGroupBuilder MapWorkspaceEndpoints(this RouteGroupBuilder manage)
    {
        var workspaces = manage.MapGroup("/workspaces").WithTags("Workspaces");
        workspaces.MapGet("/", ListWorkspaces);
        workspaces.MapPost("/", CreateWorkspace);
        workspaces.MapGet("/{workspaceId}", GetWorkspace);
        workspaces.MapPatch("/{workspaceId}", UpdateWorkspace);
        workspaces.MapDelete("/{workspaceId}", DeleteWorkspace);
        workspaces.MapPost("/{workspaceId}/verify", VerifyConnections);
        workspaces.MapPost("/{workspaceId}/accounts", AddAccount);
        workspaces.MapGet("/{workspaceId}/accounts/{accountId}", GetAccount);
        workspaces.MapPatch("/{workspaceId}/accounts/{accountId}", UpdateAccount);
        workspaces.MapDelete("/{workspaceId}/accounts/{accountId}", DeleteAccount);
        return manage;
    }

    public static async Task<Ok<List<WorkspaceView>>> ListWorkspaces(WorkspaceStore store, CancellationToken ct)
    {
        var result = new List<WorkspaceView>();
        foreach (var workspace in await store.ListWorkspacesAsync(ct))
            result.Add(WorkspaceView.From(workspace, await store.ListAccountsAsync(workspace.Id, ct)));
        return TypedResults.Ok(result);
    }

    public static async Task<Results<Created<WorkspaceView>, ValidationProblem>> CreateWorkspace(
        WorkspaceDraft draft, WorkspaceAdministration admin, HttpContext http, CancellationToken ct)
    {
        var errors = draft.Validate(isUpdate: false);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        var workspace = await admin.CreateWorkspaceAsync(draft, ct);
        SetETag(http, workspace.ETag);
        return TypedResults.Created($"{ManageApi.RoutePrefix}/workspaces/{workspace.Id}", WorkspaceView.From(workspace, []));
    }

    public static async Task<Results<Ok<WorkspaceView>, ProblemHttpResult>> GetWorkspace(
        string workspaceId, WorkspaceStore store, HttpContext http, CancellationToken ct)
    {
        var workspace = await store.GetWorkspaceIfExistsAsync(workspaceId, ct);
        if (workspace is null) return AdminProblems.WorkspaceNotFound(workspaceId);
        SetETag(http, workspace.ETag);
        return TypedResults.Ok(WorkspaceView.From(workspace, await store.ListAccountsAsync(workspaceId, ct)));
    }

    public static async Task<Results<Ok<WorkspaceView>, ValidationProblem, ProblemHttpResult>> UpdateWorkspace(
        string workspaceId, WorkspaceDraft draft, [FromHeader(Name = "If-Match")] string? ifMatch,
        WorkspaceAdministration admin, WorkspaceStore store, HttpContext http, CancellationToken ct)
    {
        var errors = draft.Validate(isUpdate: true);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        try
        {
            var workspace = await admin.UpdateWorkspaceAsync(workspaceId, draft, ifMatch, ct);
            if (workspace is null) return AdminProblems.WorkspaceNotFound(workspaceId);
            SetETag(http, workspace.ETag);
            return TypedResults.Ok(WorkspaceView.From(workspace, await store.ListAccountsAsync(workspaceId, ct)));
        }
        catch (EditConflictException e)
        {
            return AdminProblems.PreconditionFailed(e);
        }
    }

    /// <summary>Deletes the workspace and everything Lumo holds of it (what was written to Klaviyo stays there).</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteWorkspace(string workspaceId, WorkspaceAdministration admin, HttpRequest request, CancellationToken ct) =>
        await admin.DeleteWorkspaceAsync(workspaceId, AdminIdentity.Of(request), ct) ? TypedResults.NoContent() : AdminProblems.WorkspaceNotFound(workspaceId);

    /// <summary>Queues a fresh check of the Klaviyo key and every LINE token; the outcome shows on the workspace.</summary>
    public static async Task<Results<Accepted, ProblemHttpResult>> VerifyConnections(
        string workspaceId, WorkspaceStore store, WorkspaceAdministration admin, CancellationToken ct)
    {
        if (await store.GetWorkspaceIfExistsAsync(workspaceId, ct) is null) return AdminProblems.WorkspaceNotFound(workspaceId);
        await admin.RequestVerificationAsync(workspaceId, null, ct);
        return TypedResults.Accepted($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}");
    }

    public static async Task<Results<Created<LineAccountView>, ProblemHttpResult, ValidationProblem>> AddAccount(
        string workspaceId, LineAccountDraft draft, WorkspaceAdministration admin, HttpContext http, CancellationToken ct)
    {
        var errors = draft.Validate(isUpdate: false);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        var account = await admin.AddAccountAsync(workspaceId, draft, ct);
        if (account is null) return AdminProblems.WorkspaceNotFound(workspaceId);
        SetETag(http, account.ETag);
        return TypedResults.Created($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{account.Id}", LineAccountView.From(account));
    }

    public static async Task<Results<Ok<LineAccountView>, ProblemHttpResult>> GetAccount(
        string workspaceId, string accountId, WorkspaceStore store, HttpContext http, CancellationToken ct)
    {
        var account = await store.GetAccountIfExistsAsync(workspaceId, accountId, ct);
        if (account is null) return AdminProblems.AccountNotFound(workspaceId, accountId);
        SetETag(http, account.ETag);
        return TypedResults.Ok(LineAccountView.From(account));
    }

    public static async Task<Results<Ok<LineAccountView>, ValidationProblem, ProblemHttpResult>> UpdateAccount(
        string workspaceId, string accountId, LineAccountDraft draft, [FromHeader(Name = "If-Match")] string? ifMatch,
        WorkspaceAdministration admin, HttpContext http, CancellationToken ct)
    {
        var errors = draft.Validate(isUpdate: true);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        try
        {
            var account = await admin.UpdateAccountAsync(workspaceId, accountId, draft, ifMatch, ct);
            if (account is null) return AdminProblems.AccountNotFound(workspaceId, accountId);
            SetETag(http, account.ETag);
            return TypedResults.Ok(LineAccountView.From(account));
        }
        catch (EditConflictException e)
        {
            return AdminProblems.PreconditionFailed(e);
        }
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAccount(
        string workspaceId, string accountId, WorkspaceAdministration admin, HttpRequest request, CancellationToken ct) =>
        await admin.DeleteAccountAsync(workspaceId, accountId, AdminIdentity.Of(request), ct) ? TypedResults.NoContent() : AdminProblems.AccountNotFound(workspaceId, accountId);

    internal static void SetETag(HttpContext http, string? etag)
    {
        if (etag is not null) http.Response.Headers.ETag = etag;
    }
}
