using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.Friends;

/// <summary>What a link attempt found.</summary>
public enum LinkWriteOutcome { Linked, AlreadyLinked, FriendLinkedElsewhere, ProfileLinkedElsewhere }

/// <summary>The outcome of a link attempt, the friend as it now stands, and who holds the link when refused.</summary>
public sealed record LinkWrite(LinkWriteOutcome Outcome, LineFriend Friend, string? OtherParty = null)
{
    public bool IsLinked => Outcome is LinkWriteOutcome.Linked or LinkWriteOutcome.AlreadyLinked;

    public string ConflictMessage => Outcome switch
    {
        LinkWriteOutcome.FriendLinkedElsewhere => $"LINE user {Friend.UserId} is already linked to Klaviyo profile {OtherParty}. Unlink it first.",
        LinkWriteOutcome.ProfileLinkedElsewhere => $"The Klaviyo profile is already linked to LINE user {OtherParty}. Unlink it first.",
        _ => "",
    };
}

/// <summary>
/// Friends of each LINE account: one partition per account, one row per LINE user. Beside the friend rows (row
/// keys are LINE user ids, "U…"), the partition holds index rows after "~": <c>~profile:{id}</c> claims a Klaviyo
/// profile for one friend, so that one profile is linked to at most one LINE user per account (claim and friend
/// change in one entity-group transaction), and <c>~email:{hash}:{user}</c> / <c>~phone:{hash}:{user}</c> find
/// friends by contact details without raw emails or phone numbers in keys.
/// </summary>
public sealed class LineFriendStore(LumoTables tables, ContactIndexKey indexKey)
{
    private const string IndexStart = "~";
    // Pulled Klaviyo fields as they are (Japanese is not stored as 6-character escapes).
    private static readonly System.Text.Json.JsonSerializerOptions Unescaped = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string ProfileClaim(string profileId) => $"~profile:{profileId}";

    private static string ContactIndex(ContactHasher hasher, string kind, string value, string userId) => $"~{kind}:{hasher.Hash(value)}:{userId}";

    // Where versions before the keyed hash put the same row (found only to be removed).
    private static string LegacyContactIndex(string kind, string value, string userId) => $"~{kind}:{ContactDetails.LegacyIndexHash(value)}:{userId}";

    /// <summary>
    /// Links a friend (created if LINE told us of them before a webhook did) to a Klaviyo profile. Refuses, writing
    /// nothing, when the friend or the profile is already linked to someone else; linking again to the same
    /// profile changes nothing.
    /// </summary>
    public async Task<LinkWrite> LinkAsync(string workspaceId, string accountId, string userId, string profileId, string how, DateTimeOffset at,
        string? displayName, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        return await RetryOnConflictAsync(async () =>
        {
            var friend = await GetIfExistsAsync(workspaceId, accountId, userId, cancellationToken)
                         ?? new LineFriend { WorkspaceId = workspaceId, AccountId = accountId, UserId = userId, DisplayName = displayName };
            if (friend.KlaviyoProfileId == profileId) return new LinkWrite(LinkWriteOutcome.AlreadyLinked, friend);
            if (friend.KlaviyoProfileId is { } other) return new LinkWrite(LinkWriteOutcome.FriendLinkedElsewhere, friend, other);
            var claim = await table.GetEntityIfExistsAsync<TableEntity>(partition, ProfileClaim(profileId), cancellationToken: cancellationToken);
            if (claim.HasValue && claim.Value!.GetString("UserId") != userId)
                return new LinkWrite(LinkWriteOutcome.ProfileLinkedElsewhere, friend, claim.Value.GetString("UserId"));

            var linked = friend with { KlaviyoProfileId = profileId, LinkedAt = at, LinkedHow = how, DisplayName = friend.DisplayName ?? displayName };
            var claimRow = new TableEntity(partition, ProfileClaim(profileId)) { ["UserId"] = userId };
            var responses = await table.SubmitTransactionAsync(
            [
                claim.HasValue
                    ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, claimRow, claim.Value!.ETag)
                    : new TableTransactionAction(TableTransactionActionType.Add, claimRow),
                friend.ETag is null
                    ? new TableTransactionAction(TableTransactionActionType.Add, ToEntity(linked))
                    : new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(linked), new ETag(friend.ETag)),
            ], cancellationToken);
            return new LinkWrite(LinkWriteOutcome.Linked, linked with { ETag = responses.Value[1].Headers.ETag?.ToString() });
        });
    }

    /// <summary>Removes the friend's link and frees its profile; null when the friend is unknown.</summary>
    public async Task<LineFriend?> UnlinkAsync(string workspaceId, string accountId, string userId, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        return await RetryOnConflictAsync(async () =>
        {
            var friend = await GetIfExistsAsync(workspaceId, accountId, userId, cancellationToken);
            if (friend?.KlaviyoProfileId is not { } profileId) return friend;
            var unlinked = friend with { KlaviyoProfileId = null, LinkedAt = null, LinkedHow = null, PropertiesSyncedAt = null, PropertiesSyncError = null };
            var responses = await table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(unlinked), new ETag(friend.ETag!)),
                new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(AccountPartition.Of(workspaceId, accountId), ProfileClaim(profileId)), ETag.All),
            ], cancellationToken);
            return unlinked with { ETag = responses.Value[0].Headers.ETag?.ToString() };
        });
    }

    /// <summary>
    /// Erases a person from a friend row: the link (and its claim row), display name, email and phone (and their
    /// index rows). Kept is only what a later follow or block event needs to be applied correctly: the follow status,
    /// consent and the time of the newest event. Returns the friend as it was (null when unknown), so that the caller
    /// can find what else the erased details keyed.
    /// </summary>
    public async Task<LineFriend?> EraseAsync(string workspaceId, string accountId, string userId, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var hasher = await indexKey.GetAsync(cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        return await RetryOnConflictAsync(async () =>
        {
            if (await GetIfExistsAsync(workspaceId, accountId, userId, cancellationToken) is not { } friend) return null;
            var erased = new LineFriend
            {
                WorkspaceId = workspaceId, AccountId = accountId, UserId = userId, FollowStatus = friend.FollowStatus, Consent = friend.Consent,
                ConsentUpdatedAt = friend.ConsentUpdatedAt, ConsentSource = friend.ConsentSource, LastEventAt = friend.LastEventAt,
            };
            var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, ToEntity(erased), new ETag(friend.ETag!)) };
            if (friend.KlaviyoProfileId is { } profileId)
                actions.Add(new(TableTransactionActionType.Delete, new TableEntity(partition, ProfileClaim(profileId)), ETag.All));
            await table.SubmitTransactionAsync(actions, cancellationToken);
            // Index rows one by one: a missing one (never written, or under an older hash) is no failure.
            foreach (var (kind, value) in new[] { ("email", friend.Email), ("phone", friend.PhoneNumber) }.Where(c => c.Item2 is not null))
            {
                await table.DeleteEntityAsync(partition, ContactIndex(hasher, kind, value!, userId), ETag.All, cancellationToken);
                await table.DeleteEntityAsync(partition, LegacyContactIndex(kind, value!, userId), ETag.All, cancellationToken);
            }
            return friend;
        });
    }

    /// <summary>The LINE user a Klaviyo profile is linked to in this account, if any.</summary>
    public async Task<string?> FindLinkedUserAsync(string workspaceId, string accountId, string profileId, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var claim = await table.GetEntityIfExistsAsync<TableEntity>(AccountPartition.Of(workspaceId, accountId), ProfileClaim(profileId), cancellationToken: cancellationToken);
        return claim.HasValue ? claim.Value!.GetString("UserId") : null;
    }

    /// <summary>Sets a friend's email and/or phone (normalised by the caller) and keeps the hashed contact index in step.</summary>
    public async Task<LineFriend?> SetContactAsync(string workspaceId, string accountId, string userId, string? email, string? phone, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        var hasher = await indexKey.GetAsync(cancellationToken);
        return await RetryOnConflictAsync(async () =>
        {
            if (await GetIfExistsAsync(workspaceId, accountId, userId, cancellationToken) is not { } friend) return null;
            var changed = friend with { Email = email ?? friend.Email, PhoneNumber = phone ?? friend.PhoneNumber };
            var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, ToEntity(changed), new ETag(friend.ETag!)) };
            foreach (var (kind, before, after) in new[] { ("email", friend.Email, changed.Email), ("phone", friend.PhoneNumber, changed.PhoneNumber) })
            {
                if (before == after) continue;
                if (before is not null)
                    actions.Add(new(TableTransactionActionType.Delete, new TableEntity(partition, ContactIndex(hasher, kind, before, userId)), ETag.All));
                if (after is not null)
                    actions.Add(new(TableTransactionActionType.UpsertReplace, new TableEntity(partition, ContactIndex(hasher, kind, after, userId))));
            }
            var responses = await table.SubmitTransactionAsync(actions, cancellationToken);
            return (LineFriend?)(changed with { ETag = responses.Value[0].Headers.ETag?.ToString() });
        });
    }

    /// <summary>
    /// Moves a friend's index rows from the plain hashes of earlier versions to keyed ones (idempotent): the keyed rows
    /// are written, the legacy ones removed. True when a legacy row was found.
    /// </summary>
    public async Task<bool> RekeyContactIndexAsync(LineFriend friend, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var hasher = await indexKey.GetAsync(cancellationToken);
        var partition = AccountPartition.Of(friend.WorkspaceId, friend.AccountId);
        var found = false;
        foreach (var (kind, value) in new[] { ("email", friend.Email), ("phone", friend.PhoneNumber) }.Where(c => c.Item2 is not null))
        {
            await table.UpsertEntityAsync(new TableEntity(partition, ContactIndex(hasher, kind, value!, friend.UserId)), TableUpdateMode.Replace, cancellationToken);
            var legacy = await table.DeleteEntityAsync(partition, LegacyContactIndex(kind, value!, friend.UserId), ETag.All, cancellationToken);
            found |= legacy.Status != 404;
        }
        return found;
    }

    /// <summary>
    /// Friends of the account with this normalised email address and/or phone number (both given: both must match),
    /// found through the hashed contact index.
    /// </summary>
    public async Task<List<LineFriend>> FindByContactAsync(string workspaceId, string accountId, string? email, string? phone, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var hasher = await indexKey.GetAsync(cancellationToken);
        HashSet<string>? users = null;
        foreach (var (kind, value) in new[] { ("email", email), ("phone", phone) }.Where(c => c.Item2 is not null))
        {
            var prefix = $"~{kind}:{hasher.Hash(value!)}:";
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {AccountPartition.Of(workspaceId, accountId)} and RowKey gt {prefix} and RowKey lt {prefix + "~"}");
            var matching = new HashSet<string>();
            await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken))
                matching.Add(row.RowKey[prefix.Length..]);
            users = users is null ? matching : [.. users.Intersect(matching)];
        }
        var found = new List<LineFriend>();
        foreach (var userId in users ?? [])
            if (await GetIfExistsAsync(workspaceId, accountId, userId, cancellationToken) is { } friend) found.Add(friend);
        return found;
    }

    public async Task<LineFriend?> GetIfExistsAsync(string workspaceId, string accountId, string userId, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(AccountPartition.Of(workspaceId, accountId), userId, cancellationToken: cancellationToken);
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

    /// <summary>Friends written in one <see cref="TrySetPulledFieldsAsync"/> at most: Table storage's limit for one transaction.</summary>
    public const int MaxFriendsPerTransaction = 100;

    /// <summary>
    /// Writes the Klaviyo fields pulled for friends of one account (<see cref="LineFriend.KlaviyoFields"/> and when
    /// they are from), each under the ETag it was read with, in one transaction: one storage request instead of one
    /// each. False when any of them changed or went since, or would not store; then none was written, and the caller
    /// decides again friend by friend.
    /// </summary>
    public async Task<bool> TrySetPulledFieldsAsync(IReadOnlyList<LineFriend> friends, CancellationToken cancellationToken)
    {
        if (friends.Count == 0) return true;
        // Without its ETag the write would be unconditional and could undo a newer one.
        if (friends.Any(f => f.ETag is null)) throw new ArgumentException("Each friend must be as read from storage, with its ETag.", nameof(friends));
        var table = await Table(cancellationToken);
        // A merge of the two properties, not a replace of the row: less to send, and Azurite (the local and test
        // storage) replaces by removing and inserting, which costs more the bigger the table — a merge about half.
        // An empty set is written as "{}", since a merge leaves a property it is not given.
        var actions = friends.Select(f => new TableTransactionAction(TableTransactionActionType.UpdateMerge, new TableEntity(AccountPartition.Of(f.WorkspaceId, f.AccountId), f.UserId)
        {
            ["KlaviyoFields"] = System.Text.Json.JsonSerializer.Serialize(f.KlaviyoFields, Unescaped),
            ["KlaviyoFieldsUpdatedAt"] = f.KlaviyoFieldsUpdatedAt,
        }, new ETag(f.ETag!)));
        try
        {
            await table.SubmitTransactionAsync(actions, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 400 or 404 or 409 or 412 or 413)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads, changes and saves a friend, retrying when a concurrent writer changed it in between. Not for the link
    /// or the contact details, which have index rows to keep in step (<see cref="LinkAsync"/>, <see cref="SetContactAsync"/>).
    /// </summary>
    public Task<LineFriend> UpdateAsync(string workspaceId, string accountId, string userId, Func<LineFriend, LineFriend> change, CancellationToken cancellationToken) =>
        RetryOnConflictAsync(async () => await SaveAsync(change(await GetIfExistsAsync(workspaceId, accountId, userId, cancellationToken)
                                                              ?? new LineFriend { WorkspaceId = workspaceId, AccountId = accountId, UserId = userId }), cancellationToken));

    /// <summary>
    /// <see cref="UpdateAsync(string, string, string, Func{LineFriend, LineFriend}, CancellationToken)"/> starting from a friend just read (its
    /// ETag), so the first attempt costs one write; with <paramref name="saveUnchanged"/> false, nothing is written when the change returns the same friend.
    /// </summary>
    public async Task<LineFriend> UpdateAsync(LineFriend current, Func<LineFriend, LineFriend> change, CancellationToken cancellationToken, bool saveUnchanged = true)
    {
        var first = true;
        return await RetryOnConflictAsync(async () =>
        {
            var friend = first ? current : await GetIfExistsAsync(current.WorkspaceId, current.AccountId, current.UserId, cancellationToken)
                                           ?? new LineFriend { WorkspaceId = current.WorkspaceId, AccountId = current.AccountId, UserId = current.UserId };
            first = false;
            var changed = change(friend);
            return !saveUnchanged && ReferenceEquals(changed, friend) ? friend : await SaveAsync(changed, cancellationToken);
        });
    }

    // Optimistic concurrency: each attempt reads, decides and writes under ETags. When another writer got in between
    // (409 conflict, 412 changed, 404 gone meanwhile), decide again on fresh rows.
    private static async Task<T> RetryOnConflictAsync<T>(Func<Task<T>> attempt)
    {
        for (var n = 1; ; n++)
        {
            try
            {
                return await attempt();
            }
            catch (RequestFailedException e) when (e.Status is 404 or 409 or 412 && n < 10)
            {
            }
        }
    }

    /// <summary>
    /// The friends of an account in user ID order, after <paramref name="afterUserId"/> when given; with
    /// <paramref name="columns"/>, only those are read (the rest of each friend stays empty).
    /// </summary>
    public async IAsyncEnumerable<LineFriend> ListAsync(string workspaceId, string accountId, bool? linked,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken, IEnumerable<string>? columns = null, string? afterUserId = null)
    {
        var table = await Table(cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        // Friend rows only: the index rows sort after them.
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey gt {afterUserId ?? ""} and RowKey lt {IndexStart}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: columns, cancellationToken: cancellationToken))
        {
            var friend = ToFriend(row);
            if (linked is null || friend.IsLinked == linked) yield return friend;
        }
    }

    private Task<TableClient> Table(CancellationToken cancellationToken) => tables.GetAsync(TableNames.LineFriends, cancellationToken);

    private static TableEntity ToEntity(LineFriend f) => new(AccountPartition.Of(f.WorkspaceId, f.AccountId), f.UserId)
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
        ["KlaviyoFields"] = f.KlaviyoFields.Count == 0 ? null : System.Text.Json.JsonSerializer.Serialize(f.KlaviyoFields, Unescaped),
        ["KlaviyoFieldsUpdatedAt"] = f.KlaviyoFieldsUpdatedAt,
    };

    private static LineFriend ToFriend(TableEntity e)
    {
        var (workspaceId, accountId) = AccountPartition.Parse(e.PartitionKey);
        return new LineFriend
        {
            WorkspaceId = workspaceId,
            AccountId = accountId,
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
            KlaviyoFields = e.GetString("KlaviyoFields") is { } fields ? System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(fields)! : new Dictionary<string, string>(),
            KlaviyoFieldsUpdatedAt = e.GetDateTimeOffset("KlaviyoFieldsUpdatedAt"),
            ETag = e.ETag.ToString(),
        };
    }
}
