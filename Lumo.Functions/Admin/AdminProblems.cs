using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.Admin;

/// <summary>The 404 and 412 problems the admin API answers, worded once.</summary>
internal static class AdminProblems
{
    public static ProblemHttpResult WorkspaceNotFound(string workspaceId) =>
        NotFound("Workspace not found", $"There is no workspace '{workspaceId}'.");

    public static ProblemHttpResult AccountNotFound(string workspaceId, string accountId) =>
        NotFound("LINE account not found", $"Workspace '{workspaceId}' has no LINE account '{accountId}'.");

    public static ProblemHttpResult PreconditionFailed(Lumo.Core.Workspaces.EditConflictException e) =>
        TypedResults.Problem(statusCode: StatusCodes.Status412PreconditionFailed, title: "Changed meanwhile", detail: e.Message);

    public static ProblemHttpResult NotFound(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: title, detail: detail);
}
