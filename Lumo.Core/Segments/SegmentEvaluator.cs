using System.IO.Hashing;
using System.Text;
using Lumo.Core.Friends;
using Lumo.Core.Klaviyo;
using Lumo.Core.KlaviyoEvents;

namespace Lumo.Core.Segments;

/// <summary>A friend a segment matched: who to send to, the linked profile (for Klaviyo events) and whether they blocked the account.</summary>
public sealed record SegmentMember(string UserId, string? ProfileId, bool Blocked);

/// <summary>A segment could not be evaluated for a reason an admin has to fix (a list it reads was deleted in Klaviyo).</summary>
public sealed class SegmentEvaluationException(string message) : Exception(message);

/// <summary>
/// Evaluates a segment rule now, over the account's friends as they stand: membership is never frozen. The Klaviyo
/// lists and segments the rule names are read once per evaluation (paged, within Klaviyo's limits); profile
/// properties are read for linked friends only, 100 profiles a request. Members are handed over a page at a time,
/// so memory holds one page of friends plus a hash per member of the lists and segments the rule names.
/// </summary>
public sealed class SegmentEvaluator(LineFriendStore friends, KlaviyoClient klaviyo, KlaviyoRateLimits limits, TimeProvider clock)
{
    private const int FriendsPerPage = 1_000;
    private const int ProfilesPerRequest = 100;

    /// <summary>Evaluates <paramref name="rule"/> (null: every friend) and hands each page of members to <paramref name="onMembers"/>.</summary>
    /// <exception cref="SegmentEvaluationException">A list or segment the rule reads no longer exists in Klaviyo.</exception>
    public async Task<SegmentEvaluation> EvaluateAsync(string workspaceId, string accountId, SegmentCondition? rule,
        Func<IReadOnlyList<SegmentMember>, Task>? onMembers, CancellationToken cancellationToken)
    {
        var started = clock.GetUtcNow();
        // The lists and segments are read side by side: each is a chain of cursor pages, one request in flight at a
        // time, and only together do they reach Klaviyo's per-account limit (which the pacing below keeps to).
        var groups = rule?.Groups().Distinct().ToList() ?? [];
        var members = await Task.WhenAll(groups.Select(group => ReadMembersAsync(workspaceId, group, cancellationToken)));
        var groupMembers = groups.Zip(members).ToDictionary(pair => pair.First, pair => pair.Second);
        var readsKlaviyo = groupMembers.Count > 0 || rule?.ReadsProperties == true;

        var (matched, reachable, scanned) = (0, 0, 0);
        var page = new List<LineFriend>(FriendsPerPage);
        async Task FlushAsync()
        {
            var found = await MatchAsync(workspaceId, rule, page, groupMembers, cancellationToken);
            (matched, reachable, scanned) = (matched + found.Count, reachable + found.Count(m => !m.Blocked), scanned + page.Count);
            if (onMembers is not null && found.Count > 0) await onMembers(found);
            page.Clear();
        }
        // Only what a rule looks at: a tenth of a friend's row, and the scan is most of an evaluation's storage work.
        await foreach (var friend in friends.ListAsync(workspaceId, accountId, linked: null, cancellationToken, ["PartitionKey", "RowKey", "FollowStatus", "KlaviyoProfileId"]))
        {
            page.Add(friend);
            if (page.Count == FriendsPerPage) await FlushAsync();
        }
        if (page.Count > 0) await FlushAsync();
        return new SegmentEvaluation(matched, reachable, scanned, clock.GetUtcNow(), readsKlaviyo ? started : null);
    }

    private async Task<List<SegmentMember>> MatchAsync(string workspaceId, SegmentCondition? rule, List<LineFriend> page,
        Dictionary<KlaviyoGroup, HashSet<ulong>> groupMembers, CancellationToken cancellationToken)
    {
        var profiles = rule?.ReadsProperties == true ? await ReadProfilesAsync(workspaceId, page, cancellationToken) : null;
        var matched = new List<SegmentMember>();
        foreach (var friend in page)
        {
            var groups = friend.KlaviyoProfileId is { } id && groupMembers.Count > 0 && MemberKey(id) is var key
                ? groupMembers.Where(g => g.Value.Contains(key)).Select(g => g.Key).ToHashSet()
                : [];
            var profile = friend.KlaviyoProfileId is { } pid && profiles?.TryGetValue(pid, out var p) == true ? p : null;
            if (rule is null || rule.Matches(friend, groups, profile))
                matched.Add(new SegmentMember(friend.UserId, friend.KlaviyoProfileId, friend.FollowStatus == FollowStatus.Blocked));
        }
        return matched;
    }

    // Members are kept as 64-bit hashes of their profile ids (8 bytes each instead of a 26-character string): a list of
    // a million profiles costs tens of megabytes, not a hundred, and a collision is a 1-in-10^13 chance per friend.
    private static ulong MemberKey(string profileId) => XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(profileId));

    private async Task<HashSet<ulong>> ReadMembersAsync(string workspaceId, KlaviyoGroup group, CancellationToken cancellationToken)
    {
        var ids = new HashSet<ulong>();
        string? next = null;
        do
        {
            await limits.WaitForSegmentProfilesAsync(workspaceId, cancellationToken);
            KlaviyoPage<KlaviyoProfile> page;
            try
            {
                page = await klaviyo.GetGroupProfilesPageAsync(workspaceId, group, next, cancellationToken);
            }
            catch (KlaviyoApiException e) when (e.Status == 404)
            {
                throw new SegmentEvaluationException($"Klaviyo {group.Kind.ToString().ToLowerInvariant()} '{group.Id}' no longer exists; edit the segment.");
            }
            foreach (var profile in page.Items) ids.Add(MemberKey(profile.Id));
            next = page.Next;
        } while (next is not null);
        return ids;
    }

    private async Task<Dictionary<string, KlaviyoProfile>> ReadProfilesAsync(string workspaceId, List<LineFriend> page, CancellationToken cancellationToken)
    {
        var linked = page.Select(f => f.KlaviyoProfileId).OfType<string>().Distinct().ToList();
        var batches = await Task.WhenAll(linked.Chunk(ProfilesPerRequest).Select(async ids =>
        {
            await limits.WaitForProfilesAsync(workspaceId, cancellationToken);
            return await klaviyo.GetProfilesByIdAsync(workspaceId, ids, cancellationToken);
        }));
        return batches.SelectMany(b => b).ToDictionary(p => p.Id, StringComparer.Ordinal);
    }
}
