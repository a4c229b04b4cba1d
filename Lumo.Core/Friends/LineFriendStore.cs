using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.Friends;

/// <summary>Friends of each LINE account: one partition per account, one row per LINE user.</summary>
public sealed class LineFriendStore(LumoTables tables)
{
    public static string Partition(string workspaceId, string accountId) => $"{workspaceId}:{accountId}";

    public async Task<LineFriend?> GetIfExistsAsync(string workspaceId, string accountId, string userId, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(Partition(workspaceId, accountId), userId, cancellationToken: cancellationToken);
        return row.HasValue ? ToFriend(row.Value!) : null;
    }

    /// <summary>
    /// Inserts a new friend (no ETag) or replaces the row if it still has the friend's ETag: 409/412 tell the
    /// caller that another writer got there first.
    /// </summary>
    public async Task<LineFriend> SaveAsync(LineFriend friend, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var entity = ToEntity(friend);
        var response = friend.ETag is null
            ? await table.AddEntityAsync(entity, cancellationToken)
            : await table.UpdateEntityAsync(entity, new ETag(friend.ETag), TableUpdateMode.Replace, cancellationToken);
        return friend with { ETag = response.Headers.ETag?.ToString() };
    }

    /// <summary>Reads, changes and saves a friend, retrying when a concurrent writer changed it in between.</summary>
    public async Task<LineFriend> UpdateAsync(string workspaceId, string accountId, string userId, Func<LineFriend, LineFriend> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetIfExistsAsync(workspaceId, accountId, userId, cancellationToken)
                          ?? new LineFriend { WorkspaceId = workspaceId, AccountId = accountId, UserId = userId };
            try
            {
                return await SaveAsync(change(current), cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412 && attempt < 10)
            {
            }
        }
    }

    public async IAsyncEnumerable<LineFriend> ListAsync(string workspaceId, string accountId, bool? linked, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var partition = Partition(workspaceId, accountId);
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, cancellationToken: cancellationToken))
        {
            var friend = ToFriend(row);
            if (linked is null || friend.IsLinked == linked) yield return friend;
        }
    }

    private Task<TableClient> Table(CancellationToken cancellationToken) => tables.GetAsync(TableNames.LineFriends, cancellationToken);

    private static TableEntity ToEntity(LineFriend f) => new(Partition(f.WorkspaceId, f.AccountId), f.UserId)
    {
        ["DisplayName"] = f.DisplayName,
        ["FollowStatus"] = f.FollowStatus.ToString(),
        ["Consent"] = f.Consent.ToString(),
        ["ConsentUpdatedAt"] = f.ConsentUpdatedAt,
        ["ConsentSource"] = f.ConsentSource,
        ["LastEventAt"] = f.LastEventAt,
        ["Email"] = f.Email,
        ["PhoneNumber"] = f.PhoneNumber,
        ["KlaviyoProfileId"] = f.KlaviyoProfileId,
        ["LinkedAt"] = f.LinkedAt,
        ["LinkedHow"] = f.LinkedHow,
        ["PropertiesSyncedAt"] = f.PropertiesSyncedAt,
        ["PropertiesSyncError"] = f.PropertiesSyncError,
    };

    private static LineFriend ToFriend(TableEntity e)
    {
        var partition = e.PartitionKey.Split(':', 2);
        return new LineFriend
        {
            WorkspaceId = partition[0],
            AccountId = partition[1],
            UserId = e.RowKey,
            DisplayName = e.GetString("DisplayName"),
            FollowStatus = Enum.TryParse<FollowStatus>(e.GetString("FollowStatus"), out var follow) ? follow : FollowStatus.Unknown,
            Consent = Enum.TryParse<Consent>(e.GetString("Consent"), out var consent) ? consent : Consent.Unknown,
            ConsentUpdatedAt = e.GetDateTimeOffset("ConsentUpdatedAt"),
            ConsentSource = e.GetString("ConsentSource"),
            LastEventAt = e.GetDateTimeOffset("LastEventAt"),
            Email = e.GetString("Email"),
            PhoneNumber = e.GetString("PhoneNumber"),
            KlaviyoProfileId = e.GetString("KlaviyoProfileId"),
            LinkedAt = e.GetDateTimeOffset("LinkedAt"),
            LinkedHow = e.GetString("LinkedHow"),
            PropertiesSyncedAt = e.GetDateTimeOffset("PropertiesSyncedAt"),
            PropertiesSyncError = e.GetString("PropertiesSyncError"),
            ETag = e.ETag.ToString(),
        };
    }
}
