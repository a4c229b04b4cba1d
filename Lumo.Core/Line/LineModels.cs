using System.Text.Json.Nodes;

namespace Lumo.Core.Line;

/// <summary>GET /v2/bot/info (https://developers.line.biz/en/reference/messaging-api/#get-bot-info).</summary>
public sealed record LineBotInfo(string UserId, string BasicId, string DisplayName, string ChatMode, string MarkAsReadMode);

/// <summary>GET /v2/bot/profile/{userId} (https://developers.line.biz/en/reference/messaging-api/#get-profile).</summary>
public sealed record LineProfile(string UserId, string DisplayName, string? PictureUrl, string? StatusMessage, string? Language);

/// <summary>GET /v2/bot/followers/ids: a page of follower IDs and, when more follow, the token for the next page.</summary>
public sealed record LineFollowerIds(IReadOnlyList<string> UserIds, string? Next);

/// <summary>A push request: up to five message objects, passed through as JSON.</summary>
public sealed record LinePush(string To, IReadOnlyList<JsonObject> Messages, bool NotificationDisabled = false);

/// <summary>What LINE answered to a push.</summary>
/// <param name="RequestId">LINE's <c>x-line-request-id</c>, or for a repeat the <c>x-line-accepted-request-id</c> of the first.</param>
/// <param name="WasAlreadyAccepted">True when LINE answered 409: the same retry key was accepted before, nothing was sent now.</param>
public sealed record LinePushResult(string? RequestId, bool WasAlreadyAccepted);
