using Lumo.Sandbox.Specs;

namespace Lumo.Sandbox.Infrastructure;

/// <summary>What the gateway needs to know of one simulated API: its paths, spec, auth, limits and error shape.</summary>
public interface ISimulatedVendor
{
    string Name { get; }
    bool Owns(PathString path);
    SpecDocument? Spec { get; }
    string MediaType { get; }

    /// <summary>The caller (channel or account) the credentials name, or null when they are missing or wrong.</summary>
    string? Authenticate(HttpContext context);

    /// <summary>The published limit of an operation, or null when it is not limited.</summary>
    RateLimit? LimitFor(string method, string pathTemplate);

    /// <summary>An error answer in the vendor's own shape.</summary>
    IResult Error(int status, string message, IReadOnlyList<string>? details = null, TimeSpan? retryAfter = null);
}

public static class SandboxItems
{
    public const string Caller = "sandbox.caller";
    /// <summary>Set when the caller's rate limits are counted apart from the caller's own (an OAuth app's install).</summary>
    public const string RateLimitKey = "sandbox.rate-limit-key";
    public static string CallerOf(HttpContext context) => (string)context.Items[Caller]!;
}
