using System.Collections.Concurrent;

namespace Lumo.Sandbox.Infrastructure;

/// <summary>
/// Which of the sandbox's own answers are checked against the vendor's document. Requests — what Lumo sends — are
/// always checked. Tests check every answer. The benchmarks check each operation's first answers and then a sample:
/// checking a 100-profile Klaviyo page takes about 11 ms of processor time, and on the benchmarks' shared cores
/// that time comes off what Lumo and Azurite get, where the real Klaviyo costs them nothing.
/// </summary>
public sealed class AnswerChecks
{
    private const int CheckedBeforeSampling = 20;
    private const int OneIn = 100;
    private readonly bool _sampled;
    private readonly ConcurrentDictionary<string, long> _answers = new();

    private AnswerChecks(bool sampled) => _sampled = sampled;

    public static AnswerChecks Every { get; } = new(sampled: false);

    /// <summary>A new sample, counted per operation from the first answer.</summary>
    public static AnswerChecks Sample() => new(sampled: true);

    /// <summary>Whether this answer of the operation is checked.</summary>
    public bool Checks(string method, string operation)
    {
        if (!_sampled) return true;
        var n = _answers.AddOrUpdate($"{method} {operation}", 1, (_, seen) => seen + 1);
        return n <= CheckedBeforeSampling || n % OneIn == 0;
    }
}
