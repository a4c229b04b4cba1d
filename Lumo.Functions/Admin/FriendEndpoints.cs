using Lumo.Core.Friends;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.Admin;

/// <summary>
/// LINE friends of an account: state and consent, contact details, the Klaviyo link (set by hand until ID linkage
/// arrives), bulk property sync, and Klaviyo events that were parked.
/// </summary>
public static class FriendEndpoints
{
    public const int ListLimit = 500;

    /// <summary>A friend; <c>KlaviyoFields</c> are the Klaviyo profile fields the sync rules pull (Lumo-side friend information).</summary>
    public sealed record FriendView(string UserId, string? DisplayName, FollowStatus FollowStatus, Consent Consent, DateTimeOffset? ConsentUpdatedAt,
        string? ConsentSource, string? Email, string? PhoneNumber, KlaviyoSyncInfo Klaviyo, IReadOnlyDictionary<string, string> KlaviyoFields, DateTimeOffset? KlaviyoFieldsUpdatedAt);

    public sealed record KlaviyoSyncInfo(bool Linked, string? ProfileId, string? ViewInKlaviyoUrl, DateTimeOffset? LinkedAt, string? LinkedHow,
        DateTimeOffset? PropertiesSyncedAt, string? PropertiesSyncError);

    public sealed record ContactDraft(string? Email, string? PhoneNumber);
    public sealed record LinkDraft(string? KlaviyoProfileId);
    public sealed record ParkedEventView(string Metric, string ProfileId, string UniqueId, DateTimeOffset Time, string? Reason, DateTimeOffset? ParkedAt);

    public static RouteGroupBuilder MapFriendEndpoints(this RouteGroupBuilder manage)
    {
        var account = manage.MapGroup("/workspaces/{workspaceId}/accounts/{accountId}").WithTags("LINE friends");
        account.MapGet("/friends", ListFriends);
        account.MapGet("/friends/{userId}", GetFriend);
        account.MapPatch("/friends/{userId}", SetContact);
        account.MapPut("/friends/{userId}/link", Link);
        account.MapDelete("/friends/{userId}/link", Unlink);
        account.MapPost("/klaviyo-sync", StartBulkSync);
        var workspace = manage.MapGroup("/workspaces/{workspaceId}").WithTags("Klaviyo sync");
        workspace.MapGet("/klaviyo-sync-jobs", ListSyncJobs);
        workspace.MapGet("/klaviyo-events/parked", ListParkedEvents);
        workspace.MapPost("/klaviyo-events/parked/replay", ReplayParkedEvents);
        return manage;
    }

    /// <summary>
    /// Friends of the account (at most 500); <c>?linked=true|false</c> filters by Klaviyo ID linkage, <c>?email=</c>
    /// and <c>?phoneNumber=</c> find friends by contact details (through hashed index keys).
    /// </summary>
    public static async Task<Results<Ok<List<FriendView>>, ValidationProblem, ProblemHttpResult>> ListFriends(string workspaceId, string accountId, bool? linked, string? email,
        string? phoneNumber, LineFriendStore friends, WorkspaceStore workspaces, CancellationToken ct)
    {
        if (email is null && phoneNumber is null)
            return TypedResults.Ok(await friends.ListAsync(workspaceId, accountId, linked, ct).Take(ListLimit).Select(View).ToListAsync(ct));
        if (await workspaces.GetWorkspaceIfExistsAsync(workspaceId, ct) is not { } workspace) return AdminProblems.WorkspaceNotFound(workspaceId);
        var (normalisedEmail, normalisedPhone, errors) = ContactDetails.Normalise(email, phoneNumber, workspace.DefaultRegion);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        var found = await friends.FindByContactAsync(workspaceId, accountId, normalisedEmail, normalisedPhone, ct);
        return TypedResults.Ok(found.Where(f => linked is null || f.IsLinked == linked).Select(View).ToList());
    }

    public static async Task<Results<Ok<FriendView>, ProblemHttpResult>> GetFriend(string workspaceId, string accountId, string userId, LineFriendStore friends, CancellationToken ct) =>
        await friends.GetIfExistsAsync(workspaceId, accountId, userId, ct) is { } friend ? TypedResults.Ok(View(friend)) : FriendNotFound(userId);

    public static async Task<Results<Ok<FriendView>, ValidationProblem, ProblemHttpResult>> SetContact(
        string workspaceId, string accountId, string userId, ContactDraft draft, FriendAdministration admin, WorkspaceStore workspaces, CancellationToken ct)
    {
        if (await workspaces.GetWorkspaceIfExistsAsync(workspaceId, ct) is not { } workspace) return AdminProblems.WorkspaceNotFound(workspaceId);
        var (email, phone, errors) = ContactDetails.Normalise(draft.Email, draft.PhoneNumber, workspace.DefaultRegion);
        if (draft.Email is null && draft.PhoneNumber is null) errors["email"] = ["Give an email address, a phone number, or both."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        return await admin.SetContactAsync(workspaceId, accountId, userId, email, phone, ct) is { } friend ? TypedResults.Ok(View(friend)) : FriendNotFound(userId);
    }

    /// <summary>Links the friend to a Klaviyo profile and writes its LINE properties there at once.</summary>
    public static async Task<Results<Ok<FriendView>, ValidationProblem, ProblemHttpResult>> Link(
        string workspaceId, string accountId, string userId, LinkDraft draft, FriendAdministration admin, CancellationToken ct)
    {
        if (!Lumo.Core.Ids.IsKlaviyoId(draft.KlaviyoProfileId?.Trim()))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["klaviyoProfileId"] = ["The Klaviyo profile id is required: letters and digits, as in the profile's Klaviyo URL."] });
        try
        {
            return await admin.LinkAsync(workspaceId, accountId, userId, draft.KlaviyoProfileId!.Trim(), "admin", ct) is { } friend
                ? TypedResults.Ok(View(friend)) : FriendNotFound(userId);
        }
        catch (LinkConflictException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already linked", detail: e.Message);
        }
    }

    public static async Task<Results<Ok<FriendView>, ProblemHttpResult>> Unlink(string workspaceId, string accountId, string userId, FriendAdministration admin, CancellationToken ct) =>
        await admin.UnlinkAsync(workspaceId, accountId, userId, ct) is { } friend ? TypedResults.Ok(View(friend)) : FriendNotFound(userId);

    /// <summary>Queues a bulk write of every linked friend's LINE properties (Klaviyo bulk import jobs).</summary>
    public static async Task<Accepted> StartBulkSync(string workspaceId, string accountId, LumoQueues queues, CancellationToken ct)
    {
        await queues.EnqueueAsync(QueueNames.KlaviyoProfileSync, new ProfileSyncRequest(workspaceId, accountId), ct);
        return TypedResults.Accepted($"{ManageApi.RoutePrefix}/workspaces/{workspaceId}/klaviyo-sync-jobs");
    }

    public static async Task<Ok<List<Dictionary<string, object?>>>> ListSyncJobs(string workspaceId, FriendBulkSync sync, CancellationToken ct) =>
        TypedResults.Ok((await sync.ListJobsAsync(workspaceId, ct)).Select(row => new Dictionary<string, object?>
        {
            ["jobId"] = row.RowKey, ["accountId"] = row.GetString("AccountId"), ["status"] = row.GetString("Status"),
            ["profiles"] = row.GetInt32("Profiles"), ["completed"] = row.GetInt32("Completed"), ["failed"] = row.GetInt32("Failed"),
            ["errors"] = row.GetString("Errors") is { } errors ? System.Text.Json.JsonSerializer.Deserialize<List<string>>(errors) : null,
            ["startedAt"] = row.GetDateTimeOffset("StartedAt"), ["finishedAt"] = row.GetDateTimeOffset("FinishedAt"),
        }).ToList());

    /// <summary>Events Klaviyo refused or that failed every attempt (at most 500).</summary>
    public static async Task<Ok<List<ParkedEventView>>> ListParkedEvents(string workspaceId, KlaviyoEventOutbox outbox, CancellationToken ct) =>
        TypedResults.Ok((await outbox.ListParkedAsync(workspaceId, ListLimit, ct))
            .Select(e => new ParkedEventView(e.Event.Metric, e.Event.ProfileId, e.Event.UniqueId, e.Event.Time, e.ParkedReason, e.ParkedAt)).ToList());

    /// <summary>Puts parked events back in the outbox and starts an export. Their unique ids keep a replay from duplicating.</summary>
    public static async Task<Ok<ReplayedEvents>> ReplayParkedEvents(string workspaceId, KlaviyoEventOutbox outbox, KlaviyoEventRecorder recorder, CancellationToken ct)
    {
        var count = await outbox.ReplayParkedAsync(workspaceId, ct);
        if (count > 0) await recorder.RequestExportAsync(workspaceId, ct);
        return TypedResults.Ok(new ReplayedEvents(count));
    }

    public sealed record ReplayedEvents(int Replayed);

    private static FriendView View(LineFriend f) => new(f.UserId, f.DisplayName, f.FollowStatus, f.Consent, f.ConsentUpdatedAt, f.ConsentSource,
        f.Email, f.PhoneNumber, new KlaviyoSyncInfo(f.IsLinked, f.KlaviyoProfileId,
            f.KlaviyoProfileId is null ? null : $"https://www.klaviyo.com/profile/{f.KlaviyoProfileId}",
            f.LinkedAt, f.LinkedHow, f.PropertiesSyncedAt, f.PropertiesSyncError), f.KlaviyoFields, f.KlaviyoFieldsUpdatedAt);

    private static ProblemHttpResult FriendNotFound(string userId) =>
        AdminProblems.NotFound("LINE friend not found", $"No friend '{userId}' is known for this LINE account.");
}
