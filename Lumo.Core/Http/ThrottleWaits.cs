namespace Lumo.Core.Http;

/// <summary>
/// Waits out a vendor's 429 in the caller, for waits longer than the HTTP handler takes on itself
/// (<see cref="ResilienceDefaults.LongestWaitHere"/>): the call is tried again after the vendor's <c>Retry-After</c>.
/// </summary>
public static class ThrottleWaits
{
    /// <summary>
    /// Calls until it is not throttled, at most <paramref name="attempts"/> times. A 429 without <c>Retry-After</c>
    /// waits <paramref name="withoutRetryAfter"/>, or is thrown when that is null; one asking longer than
    /// <paramref name="longest"/> is thrown, as is the last attempt's 429.
    /// </summary>
    public static async Task<T> CallAsync<T>(Func<Task<T>> call, int attempts, TimeSpan longest, TimeSpan? withoutRetryAfter, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (VendorApiException e) when (e.Status == 429 && attempt < attempts && (e.RetryAfter ?? withoutRetryAfter) is { } wait && wait <= longest)
            {
                await Task.Delay(wait, clock, cancellationToken);
            }
        }
    }
}
