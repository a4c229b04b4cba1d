using System.Collections.Concurrent;

namespace Lumo.Core.Storage;

/// <summary>
/// Runs an asynchronous creation once per key and shares the result (tables and queues are created on first use).
/// A failed creation is forgotten, so that the next caller tries again instead of inheriting the failure forever.
/// </summary>
internal sealed class CreateOnce<T>
{
    private readonly ConcurrentDictionary<string, Lazy<Task<T>>> _created = new();

    public async Task<T> GetAsync(string key, Func<string, Task<T>> create, CancellationToken cancellationToken)
    {
        var creation = _created.GetOrAdd(key, k => new Lazy<Task<T>>(() => create(k)));
        try
        {
            return await creation.Value.WaitAsync(cancellationToken);
        }
        catch when (creation.Value.IsFaulted)
        {
            _created.TryRemove(KeyValuePair.Create(key, creation));
            throw;
        }
    }
}
