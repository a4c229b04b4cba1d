using Microsoft.Extensions.DependencyInjection;
using Polly;
using Microsoft.Extensions.Http.Resilience;

namespace Lumo.Core.Http;

internal static class ResilienceDefaults
{
    /// <summary>Marks a request whose caller does its own retrying (and rate limiting), so the handler must not.</summary>
    public static readonly HttpRequestOptionsKey<bool> NoRetry = new("Lumo.NoRetry");

    /// <summary>
    /// The longest <c>Retry-After</c> the handler waits out itself. A longer one (Klaviyo's per-minute window asks for up
    /// to a minute) would only run into the total timeout and reach the caller as "no answer"; instead the caller gets
    /// the vendor's answer with its <see cref="VendorApiException.RetryAfter"/>, and waits or re-queues as it sees fit.
    /// </summary>
    public static readonly TimeSpan LongestWaitHere = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The standard resilience handler, kept short: a few retries that honour <c>Retry-After</c>. Longer outages
    /// are the queue's job (the message comes back and is finally parked in the poison queue), so a call never
    /// holds a function invocation for long.
    /// </summary>
    /// <remarks>
    /// <c>tenantOf</c> names the tenant (LINE channel, Klaviyo account) a request belongs to: each gets its own
    /// pipeline, so one tenant's throttling or outage opens only its own circuit and never stops the others' calls.
    /// </remarks>
    public static IHttpClientBuilder AddLumoResilience(this IHttpClientBuilder builder, Func<HttpRequestMessage, string> tenantOf)
    {
        builder.AddStandardResilienceHandler(options =>
        {
            options.Retry.MaxRetryAttempts = 3;
            options.Retry.Delay = TimeSpan.FromMilliseconds(200);
            options.Retry.ShouldRetryAfterHeader = true;
            var transient = options.Retry.ShouldHandle;
            // Retried: what the standard handler retries, unless the caller retries itself or the vendor asks for a
            // longer wait than this handler takes (read only for an answer that would be retried, not for every success).
            options.Retry.ShouldHandle = async args =>
                !(args.Context.GetRequestMessage()?.Options.TryGetValue(NoRetry, out var noRetry) == true && noRetry)
                && await transient(args)
                && !(args.Outcome.Result is { } response && VendorApiException.ReadRetryAfter(response) > LongestWaitHere);
            options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(10);
            options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(40);
            options.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(20);
            // A 429 asks for patience, not a broken vendor: it never opens the circuit (callers wait out Retry-After).
            var failure = options.CircuitBreaker.ShouldHandle;
            options.CircuitBreaker.ShouldHandle = args =>
                args.Outcome.Result?.StatusCode == System.Net.HttpStatusCode.TooManyRequests ? ValueTask.FromResult(false) : failure(args);
        }).SelectPipelineBy(_ => tenantOf);
        return builder;
    }
}
