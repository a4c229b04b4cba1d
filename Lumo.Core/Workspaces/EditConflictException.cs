namespace Lumo.Core.Workspaces;

/// <summary>The row changed since the caller read it (its ETag no longer matches): read again and retry.</summary>
public sealed class EditConflictException(string message) : Exception(message)
{
    /// <summary>Refuses a change made against an older read (<c>If-Match</c> given and not the current ETag), before anything is written.</summary>
    public static void ThrowIfStale(string? current, string? ifMatch)
    {
        if (ifMatch is not null && ifMatch != "*" && ifMatch != current)
            throw new EditConflictException("The resource was changed since you read it. Read it again and repeat the change.");
    }

    /// <summary>Runs a conditional write; another request's write in between (412) becomes an edit conflict.</summary>
    public static async Task<T> OnConcurrentWriteAsync<T>(Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (Azure.RequestFailedException e) when (e.Status == 412)
        {
            throw new EditConflictException("The resource was changed by another request at the same time. Read it again and repeat the change.");
        }
    }
}
