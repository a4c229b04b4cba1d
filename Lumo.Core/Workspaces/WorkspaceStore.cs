using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;
using Microsoft.Extensions.Caching.Memory;

namespace Lumo.Core.Workspaces;

/// <summary>
/// Workspaces and their LINE accounts in one table: a workspace is a partition, so that adding an account and
/// advancing the workspace's ordinal counter commit together in one entity-group transaction.
/// </summary>
public sealed class WorkspaceStore(LumoTables tables, IMemoryCache cache)
{
    /// <summary>
    /// How stale the send path's copy of an account may be. Changes made through this instance are seen at once
    /// (its copy is dropped); another instance sees them within this time. What a send reads from it (the ordinal
    /// behind the property names, the basic id) changes rarely. After an account is deleted, a webhook on another
    /// instance still finds no friend to send to (friends are read uncached and erased with the account), so it is
    /// skipped, and its skip row is what a repeated DELETE of the account erases.
    /// </summary>
    public static readonly TimeSpan AccountCacheLifetime = TimeSpan.FromSeconds(30);

    private const string WorkspaceRow = "workspace";
    private const string AccountRowPrefix = "account:";

    public async Task<Workspace?> GetWorkspaceIfExistsAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, WorkspaceRow, cancellationToken: cancellationToken);
        return row.HasValue ? ToWorkspace(row.Value!) : null;
    }

    public async Task<IReadOnlyList<Workspace>> ListWorkspacesAsync(CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var result = new List<Workspace>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.RowKey == WorkspaceRow, cancellationToken: cancellationToken))
            result.Add(ToWorkspace(row));
        return result;
    }

    public async Task<Workspace> AddWorkspaceAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var response = await table.AddEntityAsync(ToEntity(workspace), cancellationToken);
        return workspace with { ETag = response.Headers.ETag?.ToString() };
    }

    /// <summary>Replaces the workspace row if it still has <see cref="Workspace.ETag"/>; 412 otherwise.</summary>
    public async Task<Workspace> UpdateWorkspaceAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var response = await table.UpdateEntityAsync(ToEntity(workspace), IfMatch(workspace.ETag), TableUpdateMode.Replace, cancellationToken);
        return workspace with { ETag = response.Headers.ETag?.ToString() };
    }

    /// <summary>Deletes the workspace and every account row in it.</summary>
    public async Task DeleteWorkspaceAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var actions = new List<TableTransactionAction>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == workspaceId, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
            actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, row, ETag.All));
        foreach (var chunk in actions.Chunk(100))
            await table.SubmitTransactionAsync(chunk, cancellationToken);
    }

    public async Task<IReadOnlyList<LineAccount>> ListAccountsAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var result = new List<LineAccount>();
        var from = AccountRowPrefix;
        var to = AccountRowPrefix[..^1] + (char)(AccountRowPrefix[^1] + 1);
        await foreach (var row in table.QueryAsync<TableEntity>(
            e => e.PartitionKey == workspaceId && e.RowKey.CompareTo(from) >= 0 && e.RowKey.CompareTo(to) < 0, cancellationToken: cancellationToken))
            result.Add(ToAccount(row));
        return result.OrderBy(a => a.Ordinal).ToList();
    }

    public async Task<LineAccount?> GetAccountIfExistsAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, AccountRowPrefix + accountId, cancellationToken: cancellationToken);
        return row.HasValue ? ToAccount(row.Value!) : null;
    }

    /// <summary>
    /// The account as the hot paths (webhooks, sends) use it: read at most once per <see cref="AccountCacheLifetime"/>
    /// per instance; an unknown account is not cached, so one added just now is found at once.
    /// </summary>
    public async Task<LineAccount?> GetAccountCachedAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(AccountCacheKey(workspaceId, accountId), out LineAccount? cached)) return cached;
        var account = await GetAccountIfExistsAsync(workspaceId, accountId, cancellationToken);
        if (account is not null) cache.Set(AccountCacheKey(workspaceId, accountId), account, AccountCacheLifetime);
        return account;
    }

    private static string AccountCacheKey(string workspaceId, string accountId) => $"line-account:{workspaceId}:{accountId}";

    /// <summary>
    /// Inserts the account and stores the workspace's advanced ordinal counter atomically. Fails with 412 when
    /// another writer changed the workspace since it was read, so two concurrent adds never share an ordinal.
    /// </summary>
    public async Task<LineAccount> AddAccountAsync(Workspace workspace, LineAccount account, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var responses = await table.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(workspace), IfMatch(workspace.ETag)),
            new TableTransactionAction(TableTransactionActionType.Add, ToEntity(account)),
        ], cancellationToken);
        return account with { ETag = responses.Value[1].Headers.ETag?.ToString() };
    }

    /// <summary>Replaces the account row if it still has <see cref="LineAccount.ETag"/>; 412 otherwise.</summary>
    public async Task<LineAccount> UpdateAccountAsync(LineAccount account, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var response = await table.UpdateEntityAsync(ToEntity(account), IfMatch(account.ETag), TableUpdateMode.Replace, cancellationToken);
        cache.Remove(AccountCacheKey(account.WorkspaceId, account.Id));
        return account with { ETag = response.Headers.ETag?.ToString() };
    }

    /// <summary>
    /// Records a Klaviyo credential check by merging only those columns, so that it can never undo a concurrent
    /// change to the rest of the row (such as the account ordinal counter).
    /// </summary>
    public async Task RecordKlaviyoConnectionAsync(string workspaceId, ConnectionState state, string? klaviyoAccountId, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var entity = new TableEntity(workspaceId, WorkspaceRow);
        WriteConnection(entity, "Klaviyo", state);
        if (klaviyoAccountId is not null) entity["KlaviyoAccountId"] = klaviyoAccountId;
        await table.UpdateEntityAsync(entity, ETag.All, TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>
    /// Records new Klaviyo credentials (how, when) by merging only those columns, with the connection unverified until
    /// the check queued after it — except that a paused connection stays paused until that check resumes its work.
    /// </summary>
    public async Task RecordKlaviyoCredentialsAsync(string workspaceId, string connectedWith, DateTimeOffset at, ConnectionState state, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var entity = new TableEntity(workspaceId, WorkspaceRow) { ["KlaviyoConnectedWith"] = connectedWith, ["KlaviyoConnectedAt"] = at };
        WriteConnection(entity, "Klaviyo", state);
        await table.UpdateEntityAsync(entity, ETag.All, TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>Records a LINE credential check by merging only those columns (see <see cref="RecordKlaviyoConnectionAsync"/>).</summary>
    public async Task RecordLineConnectionAsync(string workspaceId, string accountId, ConnectionState state, Line.LineBotInfo? bot, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var entity = new TableEntity(workspaceId, AccountRowPrefix + accountId);
        WriteConnection(entity, "Line", state);
        if (bot is not null)
        {
            entity["BotUserId"] = bot.UserId;
            entity["BasicId"] = bot.BasicId;
            entity["BotDisplayName"] = bot.DisplayName;
        }
        await table.UpdateEntityAsync(entity, ETag.All, TableUpdateMode.Merge, cancellationToken);
        cache.Remove(AccountCacheKey(workspaceId, accountId));
    }

    public async Task DeleteAccountAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        await table.DeleteEntityAsync(workspaceId, AccountRowPrefix + accountId, ETag.All, cancellationToken);
        cache.Remove(AccountCacheKey(workspaceId, accountId));
    }

    private Task<TableClient> Table(CancellationToken cancellationToken) => tables.GetAsync(TableNames.Workspaces, cancellationToken);

    private static ETag IfMatch(string? etag) => etag is null ? ETag.All : new ETag(etag);

    private static TableEntity ToEntity(Workspace w)
    {
        var entity = new TableEntity(w.Id, WorkspaceRow)
        {
            ["Name"] = w.Name,
            ["KlaviyoAccountId"] = w.KlaviyoAccountId,
            ["KlaviyoConnectedWith"] = w.KlaviyoConnectedWith,
            ["KlaviyoConnectedAt"] = w.KlaviyoConnectedAt,
            ["DefaultRegion"] = w.DefaultRegion,
            ["NextAccountOrdinal"] = w.NextAccountOrdinal,
            ["CreatedAt"] = w.CreatedAt,
            ["UpdatedAt"] = w.UpdatedAt,
        };
        WriteConnection(entity, "Klaviyo", w.Klaviyo);
        return entity;
    }

    private static Workspace ToWorkspace(TableEntity e) => new()
    {
        Id = e.PartitionKey,
        Name = e.GetString("Name"),
        KlaviyoAccountId = e.GetString("KlaviyoAccountId"),
        KlaviyoConnectedWith = e.GetString("KlaviyoConnectedWith") ?? KlaviyoConnections.PrivateApiKey,
        KlaviyoConnectedAt = e.GetDateTimeOffset("KlaviyoConnectedAt"),
        DefaultRegion = e.GetString("DefaultRegion"),
        NextAccountOrdinal = e.GetInt32("NextAccountOrdinal") ?? 1,
        Klaviyo = ReadConnection(e, "Klaviyo"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? default,
        UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? default,
        ETag = e.ETag.ToString(),
    };

    private static TableEntity ToEntity(LineAccount a)
    {
        var entity = new TableEntity(a.WorkspaceId, AccountRowPrefix + a.Id)
        {
            ["Name"] = a.Name,
            ["Ordinal"] = a.Ordinal,
            ["TrackOpensAndClicks"] = a.TrackOpensAndClicks,
            ["SyncDisplayName"] = a.SyncDisplayName,
            ["PulledFields"] = a.PulledFields.Count == 0 ? null : System.Text.Json.JsonSerializer.Serialize(a.PulledFields),
            ["ChannelId"] = a.ChannelId,
            ["BotUserId"] = a.BotUserId,
            ["BasicId"] = a.BasicId,
            ["BotDisplayName"] = a.BotDisplayName,
            ["CreatedAt"] = a.CreatedAt,
            ["UpdatedAt"] = a.UpdatedAt,
        };
        WriteConnection(entity, "Line", a.Line);
        return entity;
    }

    private static LineAccount ToAccount(TableEntity e) => new()
    {
        Id = e.RowKey[AccountRowPrefix.Length..],
        WorkspaceId = e.PartitionKey,
        Name = e.GetString("Name"),
        Ordinal = e.GetInt32("Ordinal") ?? 1,
        ChannelId = e.GetString("ChannelId"),
        BotUserId = e.GetString("BotUserId"),
        BasicId = e.GetString("BasicId"),
        BotDisplayName = e.GetString("BotDisplayName"),
        Line = ReadConnection(e, "Line"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? default,
        UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? default,
        ETag = e.ETag.ToString(),
        TrackOpensAndClicks = e.GetBoolean("TrackOpensAndClicks") ?? true,
        SyncDisplayName = e.GetBoolean("SyncDisplayName") ?? true,
        PulledFields = e.GetString("PulledFields") is { } fields ? System.Text.Json.JsonSerializer.Deserialize<List<string>>(fields)! : [],
    };

    private static void WriteConnection(TableEntity entity, string prefix, ConnectionState state)
    {
        entity[prefix + "Status"] = state.Status.ToString();
        entity[prefix + "CheckedAt"] = state.CheckedAt;
        entity[prefix + "Detail"] = state.Detail;
    }

    private static ConnectionState ReadConnection(TableEntity entity, string prefix) => new(
        Enum.TryParse<ConnectionStatus>(entity.GetString(prefix + "Status"), out var status) ? status : ConnectionStatus.Unverified,
        entity.GetDateTimeOffset(prefix + "CheckedAt"),
        entity.GetString(prefix + "Detail"));
}
