using System.Text.Json.Nodes;
using Lumo.Core.Segments;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Lumo.Functions.Broadcasts;

/// <summary>
/// Lumo Segments of a LINE account: rules over ID linkage, follow status, Klaviyo list and segment membership and
/// profile properties, evaluated whenever they are used. The member count is an evaluation run in the background
/// (POST …/count); the segment shows the latest one and when it was made.
/// </summary>
public static class SegmentEndpoints
{
    public sealed record SegmentDraft(string? Name, JsonNode? Conditions);
    public sealed record SegmentView(string Id, string Name, JsonNode Conditions, SegmentEvaluation? LastEvaluation, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public static RouteGroupBuilder MapSegmentEndpoints(this RouteGroupBuilder manage)
    {
        var segments = manage.MapGroup("/workspaces/{workspaceId}/accounts/{accountId}/segments").WithTags("Segments");
        segments.MapGet("/", List);
        segments.MapPost("/", Create);
        segments.MapGet("/{segmentId}", Get);
        segments.MapPut("/{segmentId}", Replace);
        segments.MapDelete("/{segmentId}", Delete);
        segments.MapPost("/{segmentId}/count", Count);
        return manage;
    }

    public static async Task<Results<Ok<List<SegmentView>>, ProblemHttpResult>> List(string workspaceId, string accountId, WorkspaceStore workspaces, SegmentStore store,
        CancellationToken ct)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is null) return AdminProblems.AccountNotFound(workspaceId, accountId);
        return TypedResults.Ok((await store.ListAsync(workspaceId, accountId, ct)).Select(View).ToList());
    }

    public static async Task<Results<Ok<SegmentView>, ProblemHttpResult>> Get(string workspaceId, string accountId, string segmentId, SegmentStore store,
        HttpResponse response, CancellationToken ct)
    {
        if (await store.GetIfExistsAsync(workspaceId, accountId, segmentId, ct) is not { } segment) return NotFound(segmentId);
        response.Headers.ETag = segment.ETag;
        return TypedResults.Ok(View(segment));
    }

    /// <summary>Creates a segment; its rule is checked, and the Klaviyo lists and segments it names must exist.</summary>
    public static async Task<Results<Created<SegmentView>, ValidationProblem, ProblemHttpResult>> Create(string workspaceId, string accountId, SegmentDraft draft,
        SegmentAdministration admin, HttpResponse response, CancellationToken ct)
    {
        var (segment, errors) = await admin.SaveAsync(workspaceId, accountId, null, draft.Name, draft.Conditions, null, ct);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        if (segment is null) return AdminProblems.AccountNotFound(workspaceId, accountId);
        response.Headers.ETag = segment.ETag;
        return TypedResults.Created($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{accountId}/segments/{segment.Id}", View(segment));
    }

    /// <summary>Replaces a segment's name and rule (If-Match optional, as for the other settings).</summary>
    public static async Task<Results<Ok<SegmentView>, ValidationProblem, ProblemHttpResult>> Replace(string workspaceId, string accountId, string segmentId, SegmentDraft draft,
        [FromHeader(Name = "If-Match")] string? ifMatch, SegmentAdministration admin, HttpResponse response, CancellationToken ct)
    {
        try
        {
            var (segment, errors) = await admin.SaveAsync(workspaceId, accountId, segmentId, draft.Name, draft.Conditions, ifMatch, ct);
            if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
            if (segment is null) return NotFound(segmentId);
            response.Headers.ETag = segment.ETag;
            return TypedResults.Ok(View(segment));
        }
        catch (EditConflictException e)
        {
            return AdminProblems.PreconditionFailed(e);
        }
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string workspaceId, string accountId, string segmentId, SegmentStore store, CancellationToken ct) =>
        await store.DeleteAsync(workspaceId, accountId, segmentId, ct) ? TypedResults.NoContent() : NotFound(segmentId);

    /// <summary>Counts the members now, in the background; GET the segment for the count and when it was made.</summary>
    public static async Task<Results<Accepted<SegmentView>, ProblemHttpResult>> Count(string workspaceId, string accountId, string segmentId, SegmentStore store,
        SegmentAdministration admin, CancellationToken ct)
    {
        if (await store.GetIfExistsAsync(workspaceId, accountId, segmentId, ct) is not { } segment) return NotFound(segmentId);
        await admin.RequestCountAsync(segment, ct);
        return TypedResults.Accepted($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{accountId}/segments/{segmentId}", View(segment));
    }

    private static SegmentView View(LumoSegment s) => new(s.Id, s.Name, s.Conditions.ToJson(), s.LastEvaluation, s.CreatedAt, s.UpdatedAt);

    private static ProblemHttpResult NotFound(string segmentId) => AdminProblems.NotFound("Segment not found", $"This LINE account has no segment '{segmentId}'.");
}
