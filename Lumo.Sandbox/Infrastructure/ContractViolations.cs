using System.Collections.Concurrent;

namespace Lumo.Sandbox.Infrastructure;

/// <summary>A request or answer that does not conform to the vendor's OpenAPI document.</summary>
public sealed record ContractViolation(string Direction, string Method, string Path, string Operation, IReadOnlyList<string> Errors);

/// <summary>Every violation seen, so that tests can assert our clients (and the sandbox itself) follow the specs.</summary>
public sealed class ContractViolations
{
    private readonly ConcurrentQueue<ContractViolation> _all = new();
    public IReadOnlyList<ContractViolation> All => _all.ToList();
    public void Add(ContractViolation violation) => _all.Enqueue(violation);
    public void Clear() => _all.Clear();
}
