using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Http;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Lumo.Core.Line;

/// <summary>
/// Typed client for the LINE Messaging API (https://developers.line.biz/en/reference/messaging-api/).
/// Every failure surfaces as <see cref="LineApiException"/>.
/// </summary>
public sealed class LineMessagingClient(HttpClient http, LinePushPacing pacing, Microsoft.Extensions.Options.IOptions<LineOptions> options)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<LineBotInfo> GetBotInfoAsync(LineAccountRef account, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(account, new HttpRequestMessage(HttpMethod.Get, "v2/bot/info"), cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<LineBotInfo>(Json, cancellationToken))!;
    }

    /// <summary>The friend's profile, or null when the user is not a friend (or has blocked the account).</summary>
    public async Task<LineProfile?> GetProfileIfExistsAsync(LineAccountRef account, string userId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(account, new HttpRequestMessage(HttpMethod.Get, $"v2/bot/profile/{Uri.EscapeDataString(userId)}"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await ThrowIfFailedAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<LineProfile>(Json, cancellationToken);
    }

    /// <summary>
    /// One page of the account's follower IDs (https://developers.line.biz/en/reference/messaging-api/#get-follower-ids),
    /// from <paramref name="start"/> (the previous page's <c>next</c>), up to <see cref="MaxFollowerIdsPerPage"/>. Null when
    /// LINE refuses the API to this account (403: only verified and premium accounts may use it).
    /// </summary>
    public async Task<LineFollowerIds?> GetFollowerIdsAsync(LineAccountRef account, string? start, CancellationToken cancellationToken)
    {
        var path = $"v2/bot/followers/ids?limit={MaxFollowerIdsPerPage}" + (start is null ? "" : "&start=" + Uri.EscapeDataString(start));
        using var response = await SendAsync(account, new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);
        if (response.StatusCode == HttpStatusCode.Forbidden) return null;
        await ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<LineFollowerIds>(Json, cancellationToken))!;
    }

    public const int MaxFollowerIdsPerPage = 1000;

    /// <summary>
    /// Pushes messages with an <c>X-Line-Retry-Key</c>: LINE accepts one request per key within 24 hours and answers
    /// 409 to repeats, which this method reports as <see cref="LinePushResult.WasAlreadyAccepted"/>, not as a failure.
    /// </summary>
    public async Task<LinePushResult> PushMessageAsync(LineAccountRef account, LinePush push, Guid retryKey, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["to"] = push.To,
            ["messages"] = new JsonArray(push.Messages.Select(m => (JsonNode)m.DeepClone()).ToArray()),
            ["notificationDisabled"] = push.NotificationDisabled,
        };
        var request = new HttpRequestMessage(HttpMethod.Post, "v2/bot/message/push") { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Line-Retry-Key", retryKey.ToString());
        // One attempt per call: a retry inside the client would bypass the pacing and hold the webhook; the caller
        // hands a push LINE did not take to the queue, which waits out Retry-After.
        request.Options.Set(ResilienceDefaults.NoRetry, true);
        if (!await pacing.TryWaitAsync(account, cancellationToken))
            throw new LineApiException(429, "Lumo's own pacing for this channel is saturated", retryAfter: LinePushPacing.MaxWait);
        using var response = await SendAsync(account, request, cancellationToken);
        return await ReadSendResultAsync(response, cancellationToken);
    }

    /// <summary>
    /// Sends the same messages to up to 500 users (https://developers.line.biz/en/reference/messaging-api/#send-multicast-message),
    /// idempotent by <paramref name="retryKey"/> like <see cref="PushMessageAsync"/>. One attempt: the caller decides
    /// how to wait (rate limit) or stop (monthly quota).
    /// </summary>
    public Task<LinePushResult> MulticastAsync(LineAccountRef account, IReadOnlyList<string> userIds, JsonArray messages, Guid retryKey, CancellationToken cancellationToken)
    {
        if (userIds.Count is 0 or > MaxMulticastRecipients) throw new ArgumentOutOfRangeException(nameof(userIds), $"1 to {MaxMulticastRecipients} recipients per multicast.");
        return SendOnceAsync(account, "v2/bot/message/multicast", new JsonObject { ["to"] = new JsonArray(userIds.Select(u => (JsonNode)u).ToArray()), ["messages"] = messages.DeepClone() },
            retryKey, cancellationToken);
    }

    /// <summary>Sends messages to every friend of the account (https://developers.line.biz/en/reference/messaging-api/#send-broadcast-message), idempotent by <paramref name="retryKey"/>.</summary>
    public Task<LinePushResult> BroadcastAsync(LineAccountRef account, JsonArray messages, Guid retryKey, CancellationToken cancellationToken) =>
        SendOnceAsync(account, "v2/bot/message/broadcast", new JsonObject { ["messages"] = messages.DeepClone() }, retryKey, cancellationToken);

    /// <summary>
    /// The messages the account may still send this month: the target limit (https://developers.line.biz/en/reference/messaging-api/#get-quota)
    /// less the consumption (…/#get-consumption); null when the plan has no limit.
    /// </summary>
    public async Task<long?> GetRemainingQuotaAsync(LineAccountRef account, CancellationToken cancellationToken)
    {
        using var quotaResponse = await SendAsync(account, new HttpRequestMessage(HttpMethod.Get, "v2/bot/message/quota"), cancellationToken);
        await ThrowIfFailedAsync(quotaResponse, cancellationToken);
        var quota = await quotaResponse.Content.ReadFromJsonAsync<JsonObject>(Json, cancellationToken);
        if (quota?["type"]?.GetValue<string>() != "limited") return null;
        using var usageResponse = await SendAsync(account, new HttpRequestMessage(HttpMethod.Get, "v2/bot/message/quota/consumption"), cancellationToken);
        await ThrowIfFailedAsync(usageResponse, cancellationToken);
        var usage = await usageResponse.Content.ReadFromJsonAsync<JsonObject>(Json, cancellationToken);
        return Math.Max(0, quota["value"]!.GetValue<long>() - usage!["totalUsage"]!.GetValue<long>());
    }

    public const int MaxMulticastRecipients = 500;

    /// <summary>Creates a rich menu (https://developers.line.biz/en/reference/messaging-api/#create-rich-menu); returns LINE's richMenuId.</summary>
    public async Task<string> CreateRichMenuAsync(LineAccountRef account, JsonObject richMenu, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(account, new HttpRequestMessage(HttpMethod.Post, "v2/bot/richmenu") { Content = JsonContent.Create(richMenu) }, cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<JsonObject>(Json, cancellationToken))!["richMenuId"]!.GetValue<string>();
    }

    /// <summary>Uploads a rich menu's image to LINE's data host (https://developers.line.biz/en/reference/messaging-api/#upload-rich-menu-image).</summary>
    public async Task UploadRichMenuImageAsync(LineAccountRef account, string richMenuId, byte[] image, string contentType, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(image);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        var url = new Uri(options.Value.DataApiUrl, $"v2/bot/richmenu/{Uri.EscapeDataString(richMenuId)}/content");
        using var response = await SendAsync(account, new HttpRequestMessage(HttpMethod.Post, url) { Content = content }, cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
    }

    /// <summary>Makes a rich menu the one every user without their own sees (https://developers.line.biz/en/reference/messaging-api/#set-default-rich-menu).</summary>
    public async Task SetDefaultRichMenuAsync(LineAccountRef account, string richMenuId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(account, new HttpRequestMessage(HttpMethod.Post, $"v2/bot/user/all/richmenu/{Uri.EscapeDataString(richMenuId)}"), cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
    }

    /// <summary>Deletes a rich menu; true when LINE had it (https://developers.line.biz/en/reference/messaging-api/#delete-rich-menu).</summary>
    public async Task<bool> DeleteRichMenuIfExistsAsync(LineAccountRef account, string richMenuId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(account, new HttpRequestMessage(HttpMethod.Delete, $"v2/bot/richmenu/{Uri.EscapeDataString(richMenuId)}"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        await ThrowIfFailedAsync(response, cancellationToken);
        return true;
    }

    /// <summary>
    /// Links a rich menu to up to 500 users (https://developers.line.biz/en/reference/messaging-api/#link-rich-menu-to-users),
    /// or with <paramref name="richMenuId"/> null unlinks theirs, so they see the default again (…/#unlink-rich-menu-from-users).
    /// LINE applies it asynchronously (202). One attempt: the caller paces and waits out 429s.
    /// </summary>
    public async Task SetUsersRichMenuAsync(LineAccountRef account, string? richMenuId, IReadOnlyList<string> userIds, CancellationToken cancellationToken)
    {
        if (userIds.Count is 0 or > MaxMulticastRecipients) throw new ArgumentOutOfRangeException(nameof(userIds), $"1 to {MaxMulticastRecipients} users per request.");
        var body = new JsonObject { ["userIds"] = new JsonArray(userIds.Select(u => (JsonNode)u).ToArray()) };
        if (richMenuId is not null) body["richMenuId"] = richMenuId;
        var request = new HttpRequestMessage(HttpMethod.Post, richMenuId is null ? "v2/bot/richmenu/bulk/unlink" : "v2/bot/richmenu/bulk/link") { Content = JsonContent.Create(body) };
        request.Options.Set(ResilienceDefaults.NoRetry, true);
        using var response = await SendAsync(account, request, cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
    }

    private async Task<LinePushResult> SendOnceAsync(LineAccountRef account, string path, JsonObject body, Guid retryKey, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Line-Retry-Key", retryKey.ToString());
        request.Options.Set(ResilienceDefaults.NoRetry, true);
        using var response = await SendAsync(account, request, cancellationToken);
        return await ReadSendResultAsync(response, cancellationToken);
    }

    // 200: LINE's request id. 409 for the retry key: accepted before, with the first request's id; without that id
    // LINE may still be processing the first request, which is not a refusal, so it is thrown to be retried.
    private static async Task<LinePushResult> ReadSendResultAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            if (response.Headers.TryGetValues("x-line-accepted-request-id", out var accepted))
                return new LinePushResult(accepted.FirstOrDefault(), WasAlreadyAccepted: true);
            throw new LineApiException(0, "LINE has seen this retry key and has not confirmed it yet", retryAfter: TimeSpan.FromSeconds(1));
        }
        await ThrowIfFailedAsync(response, cancellationToken);
        return new LinePushResult(response.Headers.TryGetValues("x-line-request-id", out var ids) ? ids.FirstOrDefault() : null, false);
    }

    private async Task<HttpResponseMessage> SendAsync(LineAccountRef account, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Options.Set(LineAccountRef.OptionKey, account);
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or BrokenCircuitException or TimeoutRejectedException
                                   || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new LineApiException(0, $"LINE did not answer: {e.Message}", inner: e);
        }
        finally
        {
            request.Dispose();
        }
    }

    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        string message = response.ReasonPhrase ?? "LINE API error";
        var details = new List<string>();
        try
        {
            var error = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
            message = error?["message"]?.GetValue<string>() ?? message;
            if (error?["details"] is JsonArray array)
                details.AddRange(array.Select(d => $"{d?["property"]}: {d?["message"]}"));
        }
        catch (JsonException)
        {
            // Not every failure has a JSON body (e.g. a proxy's 502); the status says enough.
        }
        throw new LineApiException((int)response.StatusCode, message, details, Http.VendorApiException.ReadRetryAfter(response));
    }
}
