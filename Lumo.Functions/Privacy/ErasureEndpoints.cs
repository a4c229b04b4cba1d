using Lumo.Core;
using Lumo.Core.Privacy;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.Privacy;

/// <summary>
/// A person's erasure request (<c>POST /api/manage/workspaces/{id}/erasures</c> with <c>lineUserId</c> or
/// <c>klaviyoProfileId</c>) and the record of every erasure (<c>GET …/erasures</c>: when, by whom, what; never the data).
/// </summary>
public static class ErasureEndpoints
{
    public sealed record ErasureRequest(string? LineUserId, string? KlaviyoProfileId);
    public sealed record ErasureRecordView(DateTimeOffset At, string By, string What, int Rows);

    public static RouteGroupBuilder MapErasureEndpoints(this RouteGroupBuilder manage)
    {
        var workspace = manage.MapGroup("/workspaces/{workspaceId}/erasures").WithTags("Privacy");
        workspace.MapPost("/", Erase);
        workspace.MapGet("/", List);
        return manage;
    }

    public static async Task<Results<Ok<PersonErasureResult>, ValidationProblem, ProblemHttpResult>> Erase(string workspaceId, ErasureRequest request,
        WorkspaceStore workspaces, PersonErasure erasure, HttpRequest http, CancellationToken ct)
    {
        var byUser = request.LineUserId is not null;
        if (byUser == (request.KlaviyoProfileId is not null))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["lineUserId"] = ["Give either lineUserId or klaviyoProfileId."] });
        if (byUser && !Ids.IsLineUserId(request.LineUserId))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["lineUserId"] = ["A LINE user ID is U followed by 32 lower-case hexadecimal characters."] });
        if (!byUser && !Ids.IsKlaviyoId(request.KlaviyoProfileId))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["klaviyoProfileId"] = ["A Klaviyo profile id has letters and digits only."] });
        if (await workspaces.GetWorkspaceIfExistsAsync(workspaceId, ct) is null) return AdminProblems.WorkspaceNotFound(workspaceId);
        var who = AdminIdentity.Of(http);
        return TypedResults.Ok(byUser
            ? await erasure.EraseLineUserAsync(workspaceId, request.LineUserId!, who, ct)
            : await erasure.EraseKlaviyoProfileAsync(workspaceId, request.KlaviyoProfileId!, who, ct));
    }

    public static async Task<Ok<List<ErasureRecordView>>> List(string workspaceId, TenantDataErasure erasures, CancellationToken ct) =>
        TypedResults.Ok((await erasures.ListAsync(workspaceId, ct)).Select(e => new ErasureRecordView(e.At, e.By, e.What, e.Rows)).ToList());
}
