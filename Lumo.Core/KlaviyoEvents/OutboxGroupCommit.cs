namespace Lumo.Core.KlaviyoEvents;

/// <summary>
/// Group commit for the outbox: per workspace, one row write is in flight at a time, and the events recorded while
/// it is in flight go out together in the next write. A lone event is written at once (no added delay); under load
/// many events share a row, which cuts the writes now and the deletes after export. Every caller returns only once
/// its own event is stored, or sees the write's exception, so durability is the same as writing alone.
/// </summary>
internal sealed class OutboxGroupCommit(Func<IReadOnlyList<KlaviyoEvent>, CancellationToken, Task> writeAsync, int maxEventsPerWrite)
{
    private sealed class Pending
    {
        public readonly List<(KlaviyoEvent Event, TaskCompletionSource Stored)> Waiting = [];
        public bool Writing;
    }

    private readonly Dictionary<string, Pending> _byWorkspace = [];

    public Task AddAsync(KlaviyoEvent e, CancellationToken cancellationToken)
    {
        var stored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Pending pending;
        lock (_byWorkspace)
        {
            if (!_byWorkspace.TryGetValue(e.WorkspaceId, out pending!)) _byWorkspace[e.WorkspaceId] = pending = new Pending();
            pending.Waiting.Add((e, stored));
            if (pending.Writing) return stored.Task.WaitAsync(cancellationToken);
            pending.Writing = true;
        }
        _ = WriteWhileWaitingAsync(e.WorkspaceId, pending);
        return stored.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteWhileWaitingAsync(string workspaceId, Pending pending)
    {
        while (true)
        {
            List<(KlaviyoEvent Event, TaskCompletionSource Stored)> group;
            lock (_byWorkspace)
            {
                if (pending.Waiting.Count == 0)
                {
                    pending.Writing = false;
                    _byWorkspace.Remove(workspaceId);
                    return;
                }
                group = pending.Waiting.Take(maxEventsPerWrite).ToList();
                pending.Waiting.RemoveRange(0, group.Count);
            }
            try
            {
                // Not the callers' tokens: the write serves all of them, and one caller giving up must not fail the rest.
                await writeAsync(group.Select(g => g.Event).ToList(), CancellationToken.None);
                foreach (var g in group) g.Stored.TrySetResult();
            }
            catch (Exception e)
            {
                foreach (var g in group) g.Stored.TrySetException(e);
            }
        }
    }
}
