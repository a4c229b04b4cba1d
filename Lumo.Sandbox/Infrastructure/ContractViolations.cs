using System.Collections.Concurrent;

namespace Lumo.Sandbox.Infrastructure;

/// <summary>A request or answer that does not conform to the vendor's OpenAPI document.</summary>
public sealed record ContractViolation(string Direction, string? Caller, string Method, string Path, string Operation, IReadOnlyList<string> Errors)
{
    public override string ToString() => $"{Direction} of {Method} {Path} ({Caller}): {string.Join("; ", Errors)}";
}

/// <summary>Every violation seen, so that tests can assert our clients (and the sandbox itself) follow the specs.</summary>
public sealed class ContractViolations
{
    private readonly ConcurrentQueue<ContractViolation> _all = new();
    public IReadOnlyList<ContractViolation> All => _all.ToList();
    public void Add(ContractViolation violation) => _all.Enqueue(violation);
    public void Clear() => _all.Clear();
}

/// <summary>How many requests each caller made to each operation (after authentication), for exact-count assertions.</summary>
public sealed class RequestLog
{
    private readonly ConcurrentDictionary<(string Caller, string Method, string Operation), long> _counts = new();

    public void Count(string caller, string method, string operation) => _counts.AddOrUpdate((caller, method, operation), 1, (_, n) => n + 1);

    public long CountOf(string caller, string method, string operation) => _counts.TryGetValue((caller, method, operation), out var n) ? n : 0;

    public void Clear() => _counts.Clear();
}
