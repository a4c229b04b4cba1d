namespace Lumo.Core.Workspaces;

/// <summary>The row changed since the caller read it (its ETag no longer matches): read again and retry.</summary>
public sealed class EditConflictException(string message) : Exception(message);
