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
public sealed class LineMessagingClient(HttpClient http, LinePushPacing pacing)
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
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            // The retry key was accepted before. Without the accepted request's id LINE may still be processing the
            // first request: not a refusal, so it is retried (and then answered with the id).
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
