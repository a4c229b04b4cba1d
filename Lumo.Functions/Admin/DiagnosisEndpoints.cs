using Lumo.Core.FlowSends;
using Lumo.Core.Friends;
using Lumo.Core.ProductCards;
using Lumo.Core.Workspaces;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.Admin;

/// <summary>
/// Why did (or didn't) a customer get a LINE message? The checklist a merchant would otherwise work through by
/// hand, per LINE account, for a LINE user or a Klaviyo profile; and a test send of an Auto Send Message.
/// </summary>
public static class DiagnosisEndpoints
{
    public sealed record Check(string Name, bool Ok, string? Detail);
    public sealed record AccountDiagnosis(string AccountId, string AccountName, string? LineUserId, IReadOnlyList<Check> Checks);
    /// <summary>A test send; <c>Event</c> is a Klaviyo event's properties, the trigger a product card takes its products from.</summary>
    public sealed record TestSendDraft(string? UserId, string? Message, Dictionary<string, string>? Variables, System.Text.Json.Nodes.JsonObject? Event = null);

    public static RouteGroupBuilder MapDiagnosisEndpoints(this RouteGroupBuilder manage)
    {
        manage.MapGet("/workspaces/{workspaceId}/diagnosis", Diagnose).WithTags("Klaviyo Flow");
        manage.MapPost("/workspaces/{workspaceId}/accounts/{accountId}/test-send", TestSend).WithTags("Klaviyo Flow");
        return manage;
    }

    /// <summary>Give <c>lineUserId</c> or <c>profileId</c> (a Klaviyo profile id).</summary>
    public static async Task<Results<Ok<List<AccountDiagnosis>>, ValidationProblem, ProblemHttpResult>> Diagnose(
        string workspaceId, string? lineUserId, string? profileId, WorkspaceStore workspaces, LineFriendStore friends, LineSendStore sends, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(lineUserId) == string.IsNullOrWhiteSpace(profileId))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["lineUserId"] = ["Give either lineUserId or profileId."] });
        if (lineUserId is not null && !Lumo.Core.Ids.IsLineUserId(lineUserId))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["lineUserId"] = ["A LINE user ID is U followed by 32 lower-case hexadecimal characters."] });
        if (profileId is not null && !Lumo.Core.Ids.IsKlaviyoId(profileId))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["profileId"] = ["A Klaviyo profile id has letters and digits only."] });
        var workspace = await workspaces.GetWorkspaceIfExistsAsync(workspaceId, ct);
        if (workspace is null) return AdminProblems.WorkspaceNotFound(workspaceId);

        // The send log of a LINE user id is read once, not once per account.
        var sendsOf = new Dictionary<string, List<LineSend>>();
        var result = new List<AccountDiagnosis>();
        foreach (var account in await workspaces.ListAccountsAsync(workspaceId, ct))
        {
            // By profile: the link's claim row names the LINE user (a point read, not a scan of the account's friends).
            var friendId = lineUserId ?? await friends.FindLinkedUserAsync(workspaceId, account.Id, profileId!, ct);
            var friend = friendId is null ? null : await friends.GetIfExistsAsync(workspaceId, account.Id, friendId, ct);
            var userId = friend?.UserId ?? lineUserId;
            if (userId is not null && !sendsOf.ContainsKey(userId))
                sendsOf[userId] = await sends.ListAsync(workspaceId, userId, null, 500, ct);
            var lastSend = userId is null ? null : sendsOf[userId].Where(s => s.AccountId == account.Id).MaxBy(s => s.UpdatedAt);
            result.Add(new AccountDiagnosis(account.Id, account.Name, userId,
            [
                new("LINE account credentials work", account.Line.Status == ConnectionStatus.Verified, $"{account.Line.Status} {account.Line.Detail}".Trim()),
                new("Klaviyo API key works", workspace.Klaviyo.Status == ConnectionStatus.Verified, workspace.Klaviyo.Status.ToString()),
                new("Is a friend of this LINE account", friend is { FollowStatus: FollowStatus.Friend }, friend is null ? "never followed (or unknown to Lumo)" : friend.FollowStatus.ToString()),
                new("Has not blocked the account", friend?.FollowStatus != FollowStatus.Blocked, friend?.ConsentSource),
                new("ID-linked to a Klaviyo profile", friend?.IsLinked == true, friend?.KlaviyoProfileId),
                new("LINE properties reached the profile", friend?.PropertiesSyncedAt is not null && friend.PropertiesSyncError is null,
                    friend?.PropertiesSyncError ?? friend?.PropertiesSyncedAt?.ToString("u")),
                new("Last send", lastSend?.Status is SendStatus.Sent,
                    lastSend is null ? "no send yet" : $"{lastSend.Status} {lastSend.Reason} (source {lastSend.Source}, key {lastSend.KeySource}, LINE request {lastSend.LineRequestId ?? "-"}, retry key {lastSend.RetryKey})"),
                new("Last send was opened", lastSend?.OpenedAt is not null, WhyNoOpen(lastSend, account, friend)),
            ]));
        }
        return TypedResults.Ok(result);
    }

    // Why no Opened LINE Message was recorded for the send, most telling reason first.
    private static string? WhyNoOpen(LineSend? send, LineAccount account, LineFriend? friend) => send switch
    {
        null => "no send yet",
        { OpenedAt: { } at } => $"opened {at:u}" + (friend?.IsLinked == true ? "" : " (counted on the send only: not ID-linked, so no Klaviyo event)"),
        { Links.Count: 0, Images.Count: 0 } when !account.TrackOpensAndClicks => "tracking is switched off for this LINE account",
        { Links.Count: 0, Images.Count: 0 } => "nothing to track: the message has no link or image (or its Auto Send Message has tracking off)",
        { Status: not SendStatus.Sent } => "not delivered to LINE",
        { Images.Count: 0 } => "no image to load: only a click on one of its links would record the open",
        _ => "no image load by a person yet: link-preview crawlers, scanners and loads right after sending do not count",
    };

    /// <summary>Sends an Auto Send Message to a linked friend now, through the same pipeline as Flow sends.</summary>
    public static async Task<Results<Accepted<FlowSendEndpointAnswer>, ValidationProblem, ProblemHttpResult>> TestSend(
        string workspaceId, string accountId, TestSendDraft draft, FlowSendIntake intake, ProductCardPreview preview, CancellationToken ct)
    {
        var trigger = draft.Message is null ? null : await preview.TriggerForTestSendAsync(workspaceId, draft.Message.Trim(), draft.Event, ct);
        var request = new FlowSendRequest(draft.UserId, accountId, null, "test:" + Guid.NewGuid().ToString("N"), draft.Message, draft.Variables, trigger);
        var result = await intake.AcceptAsync(workspaceId, request, "test", ct);
        return result.Outcome switch
        {
            FlowSendOutcome.Invalid => TypedResults.ValidationProblem(result.Errors!),
            FlowSendOutcome.Skipped => TypedResults.Problem(statusCode: 409, title: "Cannot send to this user", detail: $"The user is {result.Send!.Reason}."),
            _ => TypedResults.Accepted((string?)null, new FlowSendEndpointAnswer(result.Send!.Id, result.Send.Status)),
        };
    }

    public sealed record FlowSendEndpointAnswer(string SendId, SendStatus Status);
}
