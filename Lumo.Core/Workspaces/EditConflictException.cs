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
}
