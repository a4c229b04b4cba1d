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
/// so memory holds one page of friends plus the member ids of the lists and segments the rule names.
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
        var groupMembers = new Dictionary<KlaviyoGroup, HashSet<string>>();
        foreach (var group in rule?.Groups().Distinct() ?? [])
            groupMembers[group] = await ReadMembersAsync(workspaceId, group, cancellationToken);
        var readsKlaviyo = groupMembers.Count > 0 || rule?.ReadsProperties == true;

        var (members, reachable, scanned) = (0, 0, 0);
        var page = new List<LineFriend>(FriendsPerPage);
        async Task FlushAsync()
        {
            var matched = await MatchAsync(workspaceId, rule, page, groupMembers, cancellationToken);
            (members, reachable, scanned) = (members + matched.Count, reachable + matched.Count(m => !m.Blocked), scanned + page.Count);
            if (onMembers is not null && matched.Count > 0) await onMembers(matched);
            page.Clear();
        }
        await foreach (var friend in friends.ListAsync(workspaceId, accountId, linked: null, cancellationToken))
        {
            page.Add(friend);
            if (page.Count == FriendsPerPage) await FlushAsync();
        }
        if (page.Count > 0) await FlushAsync();
        return new SegmentEvaluation(members, reachable, scanned, clock.GetUtcNow(), readsKlaviyo ? started : null);
    }

    private async Task<List<SegmentMember>> MatchAsync(string workspaceId, SegmentCondition? rule, List<LineFriend> page,
        Dictionary<KlaviyoGroup, HashSet<string>> groupMembers, CancellationToken cancellationToken)
    {
        var profiles = rule?.ReadsProperties == true ? await ReadProfilesAsync(workspaceId, page, cancellationToken) : null;
        var matched = new List<SegmentMember>();
        foreach (var friend in page)
        {
            var groups = friend.KlaviyoProfileId is { } id
                ? groupMembers.Where(g => g.Value.Contains(id)).Select(g => g.Key).ToHashSet()
                : [];
            var profile = friend.KlaviyoProfileId is { } pid && profiles?.TryGetValue(pid, out var p) == true ? p : null;
            if (rule is null || rule.Matches(friend, groups, profile))
                matched.Add(new SegmentMember(friend.UserId, friend.KlaviyoProfileId, friend.FollowStatus == FollowStatus.Blocked));
        }
        return matched;
    }

    private async Task<HashSet<string>> ReadMembersAsync(string workspaceId, KlaviyoGroup group, CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
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
            foreach (var profile in page.Items) ids.Add(profile.Id);
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
