namespace Lumo.Core.Storage;

/// <summary>
/// The partition key of per-LINE-account data (friends, webhook event log, QR codes, import history, form-linkage
/// arms): <c>{workspaceId}:{accountId}</c>. Ids are hex, so the colon never occurs inside them.
/// </summary>
public static class AccountPartition
{
    public static string Of(string workspaceId, string accountId) => $"{workspaceId}:{accountId}";

    public static (string WorkspaceId, string AccountId) Parse(string partitionKey)
    {
        var parts = partitionKey.Split(':', 2);
        return (parts[0], parts[1]);
    }
}
