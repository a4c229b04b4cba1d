namespace Lumo.Core.Storage;

/// <summary>Logical table names; <see cref="LumoTables"/> adds the configured prefix.</summary>
public static class TableNames
{
    public const string Workspaces = "Workspaces";
    public const string DevelopmentSecrets = "DevSecrets";
    public const string OperationsStatus = "OperationsStatus";
}
