using System.Text.Json.Nodes;
using Lumo.Core.Broadcasts;
using Lumo.Core.Workspaces;
using Lumo.Functions.Admin;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.Broadcasts;

/// <summary>
/// Message Broadcasts of a LINE account: to every friend (LINE's broadcast API) or to a Lumo Segment (multicasts of
/// up to 500), now or at a time, with progress, cancel, resume after the monthly quota ran out, and test sends.
/// </summary>
public static class BroadcastEndpoints
{
    public sealed record BroadcastCreation(string? Name, string? Text, string? MessageId, string? SegmentId, DateTimeOffset? ScheduledAt, bool? AllowPartialSend);
    public sealed record ProgressView(int Targeted, int Sent, int Failed, int Pending, int SkippedBlocked, int Chunks, int ChunksSent);
    /// <summary><c>scheduledAt</c> is UTC; <c>scheduledAtLocal</c> is the same moment in the merchant's <c>timeZone</c> (from the workspace's region).</summary>
    public sealed record BroadcastView(string Id, string Name, string Audience, string? SegmentId, string MessageRef, JsonArray Messages, bool Tracked, BroadcastStatus Status,
        string? Reason, DateTimeOffset ScheduledAt, DateTimeOffset ScheduledAtLocal, string TimeZone, bool AllowPartialSend, ProgressView Progress, string? LineRequestId,
        DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt);
    public sealed record TestSendDraft(List<string>? UserIds);
    public sealed record RemainingView(List<string> UserIds, int? NextChunk);

    private const int RemainingChunksPerPage = 20;

    public static RouteGroupBuilder MapBroadcastEndpoints(this RouteGroupBuilder manage)
    {
        var broadcasts = manage.MapGroup("/workspaces/{workspaceId}/accounts/{accountId}/broadcasts").WithTags("Broadcasts");
        broadcasts.MapGet("/", List);
        broadcasts.MapPost("/", Create);
        broadcasts.MapGet("/{broadcastId}", Get);
        broadcasts.MapPost("/{broadcastId}/cancel", Cancel);
        broadcasts.MapPost("/{broadcastId}/resume", Resume);
        broadcasts.MapPost("/{broadcastId}/test", TestSend);
        broadcasts.MapGet("/{broadcastId}/remaining", Remaining);
        return manage;
    }

    public static async Task<Results<Ok<List<BroadcastView>>, ProblemHttpResult>> List(string workspaceId, string accountId, WorkspaceStore workspaces, BroadcastStore store,
        CancellationToken ct)
    {
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, ct) is null) return AdminProblems.AccountNotFound(workspaceId, accountId);
        var zone = await ZoneAsync(workspaceId, workspaces, ct);
        var views = new List<BroadcastView>();
        foreach (var broadcast in await store.ListAsync(workspaceId, accountId, ct)) views.Add(await ViewAsync(broadcast, store, zone, ct));
        return TypedResults.Ok(views);
    }

    /// <summary>
    /// Creates a broadcast: <c>text</c> or <c>messageId</c> (an Auto Send Message without variables), <c>segmentId</c>
    /// (left out: every friend), <c>scheduledAt</c> (UTC offset included; left out: now), <c>allowPartialSend</c>.
    /// </summary>
    public static async Task<Results<Created<BroadcastView>, ValidationProblem, ProblemHttpResult>> Create(string workspaceId, string accountId, BroadcastCreation draft,
        BroadcastAdministration admin, BroadcastStore store, WorkspaceStore workspaces, CancellationToken ct)
    {
        var (broadcast, errors) = await admin.CreateAsync(workspaceId, accountId, new BroadcastDraft(draft.Name, draft.Text, draft.MessageId, draft.SegmentId,
            draft.ScheduledAt, draft.AllowPartialSend ?? false), ct);
        if (errors is not null) return TypedResults.ValidationProblem(errors);
        if (broadcast is null) return AdminProblems.AccountNotFound(workspaceId, accountId);
        return TypedResults.Created($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/accounts/{accountId}/broadcasts/{broadcast.Id}", await ViewAsync(broadcast, store, await ZoneAsync(workspaceId, workspaces, ct), ct));
    }

    public static async Task<Results<Ok<BroadcastView>, ProblemHttpResult>> Get(string workspaceId, string accountId, string broadcastId, BroadcastStore store, WorkspaceStore workspaces,
        CancellationToken ct) =>
        await store.GetIfExistsAsync(workspaceId, accountId, broadcastId, ct) is { } broadcast ? TypedResults.Ok(await ViewAsync(broadcast, store, await ZoneAsync(workspaceId, workspaces, ct), ct)) : NotFound(broadcastId);

    public static async Task<Results<Ok<BroadcastView>, ValidationProblem, ProblemHttpResult>> Cancel(string workspaceId, string accountId, string broadcastId,
        BroadcastAdministration admin, BroadcastStore store, WorkspaceStore workspaces, CancellationToken ct)
    {
        if (await store.GetIfExistsAsync(workspaceId, accountId, broadcastId, ct) is not { } broadcast) return NotFound(broadcastId);
        var (cancelled, errors) = await admin.CancelAsync(broadcast, ct);
        return errors is not null ? TypedResults.ValidationProblem(errors) : TypedResults.Ok(await ViewAsync(cancelled!, store, await ZoneAsync(workspaceId, workspaces, ct), ct));
    }

    public static async Task<Results<Ok<BroadcastView>, ValidationProblem, ProblemHttpResult>> Resume(string workspaceId, string accountId, string broadcastId,
        BroadcastAdministration admin, BroadcastStore store, WorkspaceStore workspaces, CancellationToken ct)
    {
        if (await store.GetIfExistsAsync(workspaceId, accountId, broadcastId, ct) is not { } broadcast) return NotFound(broadcastId);
        var (resumed, errors) = await admin.ResumeAsync(broadcast, ct);
        return errors is not null ? TypedResults.ValidationProblem(errors) : TypedResults.Ok(await ViewAsync(resumed!, store, await ZoneAsync(workspaceId, workspaces, ct), ct));
    }

    /// <summary>Pushes the broadcast's messages now to up to 10 chosen users (for checking how it looks; no Klaviyo events).</summary>
    public static async Task<Results<Ok<List<TestSendOutcome>>, ValidationProblem, ProblemHttpResult>> TestSend(string workspaceId, string accountId, string broadcastId,
        TestSendDraft draft, BroadcastAdministration admin, BroadcastStore store, CancellationToken ct)
    {
        if (await store.GetIfExistsAsync(workspaceId, accountId, broadcastId, ct) is not { } broadcast) return NotFound(broadcastId);
        var (outcomes, errors) = await admin.TestSendAsync(broadcast, draft.UserIds, ct);
        return errors is not null ? TypedResults.ValidationProblem(errors) : TypedResults.Ok(outcomes!);
    }

    /// <summary>The recipients not sent to yet (after a pause, say), a page of chunks at a time from <c>fromChunk</c>.</summary>
    public static async Task<Results<Ok<RemainingView>, ProblemHttpResult>> Remaining(string workspaceId, string accountId, string broadcastId, int? fromChunk,
        BroadcastStore store, CancellationToken ct)
    {
        if (await store.GetIfExistsAsync(workspaceId, accountId, broadcastId, ct) is not { } broadcast) return NotFound(broadcastId);
        var userIds = new List<string>();
        int? next = null;
        var chunks = 0;
        await foreach (var chunk in store.ListPendingRecipientsAsync(broadcast, Math.Max(0, fromChunk ?? 0), ct))
        {
            if (chunks++ == RemainingChunksPerPage)
            {
                next = chunk.Number;
                break;
            }
            userIds.AddRange(chunk.PendingPositions.Select(i => chunk.UserIds[i])); // a tracked chunk may be part-way
        }
        return TypedResults.Ok(new RemainingView(userIds, next));
    }

    private static async Task<MerchantTimeZone> ZoneAsync(string workspaceId, WorkspaceStore workspaces, CancellationToken ct) =>
        MerchantTimeZone.For((await workspaces.GetWorkspaceIfExistsAsync(workspaceId, ct))?.DefaultRegion);

    private static async Task<BroadcastView> ViewAsync(Broadcast b, BroadcastStore store, MerchantTimeZone zone, CancellationToken ct)
    {
        var progress = b.Status is BroadcastStatus.Scheduled ? new BroadcastProgress(0, 0, 0, 0, 0, 0) : await store.GetProgressAsync(b, ct);
        return new BroadcastView(b.Id, b.Name, b.ToEveryFriend ? "all-friends" : "segment", b.SegmentId, b.MessageRef, b.Messages, b.Tracked, b.Status, b.Reason, b.ScheduledAt,
            zone.Local(b.ScheduledAt), zone.Name, b.AllowPartialSend,
            new ProgressView(b.Targeted, progress.Sent, progress.Failed, progress.Pending, b.SkippedBlocked, b.Chunks, progress.ChunksSent),
            b.LineRequestId, b.CreatedAt, b.StartedAt, b.FinishedAt);
    }

    private static ProblemHttpResult NotFound(string broadcastId) => AdminProblems.NotFound("Broadcast not found", $"This LINE account has no broadcast '{broadcastId}'.");
}
