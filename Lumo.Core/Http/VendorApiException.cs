namespace Lumo.Core.Http;

/// <summary>
/// Common shape of the per-vendor exceptions: the HTTP status (0 when no answer arrived), the vendor's error
/// code, and how long the vendor asked us to wait.
/// </summary>
public abstract class VendorApiException(int status, string? code, string message, TimeSpan? retryAfter, Exception? inner)
    : Exception(message, inner)
{
    public int Status { get; } = status;
    public string? Code { get; } = code;
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>Worth trying again later: no answer, 429, or a 5xx.</summary>
    public bool IsTransient => Status is 0 or 408 or 429 || Status >= 500;

    /// <summary>The credentials were refused.</summary>
    public bool IsAuthenticationFailure => Status is 401 or 403;

    internal static TimeSpan? ReadRetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date) return date - DateTimeOffset.UtcNow;
        return null;
    }
}
