using Lumo.Core.Http;

namespace Lumo.Core.Line;

/// <summary>
/// A LINE Messaging API call failed. LINE errors are <c>{"message": "...", "details": [{"message","property"}]}</c>
/// (https://developers.line.biz/en/reference/messaging-api/#error-responses).
/// </summary>
public sealed class LineApiException(int status, string message, IReadOnlyList<string>? details = null, TimeSpan? retryAfter = null, Exception? inner = null)
    : VendorApiException(status, null, message, retryAfter, inner)
{
    public IReadOnlyList<string> Details { get; } = details ?? [];

    /// <summary>
    /// A 429 that is not the rate limit but the month's message quota ("You have reached your monthly limit."):
    /// waiting seconds does not help, only next month or a bigger plan does.
    /// </summary>
    public bool IsMonthlyQuotaUsedUp => Status == 429 && Message.Contains("monthly limit", StringComparison.OrdinalIgnoreCase);
}
