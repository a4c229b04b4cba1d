using Lumo.Core.Http;
using Lumo.Core.Line;
using Lumo.Core.Segments;
using Lumo.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.RichMenus;

/// <summary>
/// Keeps each friend's rich menu in step with the segments: evaluates every assigned segment now (highest priority
/// first: a friend in several gets the menu with the lowest priority number), compares the outcome with the links Lumo
/// made before, and sends LINE only the changes, in bulk requests of up to 500 users (link to a menu, or unlink so the
/// default shows). A link is recorded only after LINE accepted it, so a crash repeats a request rather than losing one
/// (linking is idempotent). One sync per account at a time (a lease).
/// </summary>
public sealed class RichMenuSync(RichMenuStore menus, SegmentStore segments, SegmentEvaluator evaluator, LineMessagingClient line, LeaseStore leases,
    TimeProvider clock, ILogger<RichMenuSync> logger)
{
    private const int UsersPerRequest = LineMessagingClient.MaxMulticastRecipients;
    private const int ParallelRequests = 8;
    private const int MaxRateLimitWaits = 10;

    public async Task<RichMenuSyncRun?> RunAsync(RichMenuSyncRequest request, CancellationToken cancellationToken)
    {
        var (workspaceId, accountId) = (request.WorkspaceId, request.AccountId);
        await using var lease = await leases.HoldAsync("rich-menu-sync", AccountPartition.Of(workspaceId, accountId), Guid.NewGuid().ToString("N"), TimeSpan.FromSeconds(30),
            cancellationToken);
        if (lease is null) return null; // another sync of this account is running; it reads the segments as they are now
        using var held = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Lost);
        var started = clock.GetUtcNow();

        var desired = new Dictionary<string, string>(StringComparer.Ordinal);
        string? problem = null;
        var allMenus = await menus.ListAsync(workspaceId, accountId, held.Token);
        foreach (var menu in allMenus.Where(m => m.SegmentId is not null))
        {
            var segment = await segments.GetIfExistsAsync(workspaceId, accountId, menu.SegmentId!, held.Token);
            if (segment is null) { problem = $"segment {menu.SegmentId} of rich menu '{menu.Name}' was deleted"; continue; }
            try
            {
                await evaluator.EvaluateAsync(workspaceId, accountId, segment.Conditions, members =>
                {
                    foreach (var member in members.Where(m => !m.Blocked)) desired.TryAdd(member.UserId, menu.Id); // menus come by priority: the first wins
                    return Task.CompletedTask;
                }, held.Token);
            }
            catch (SegmentEvaluationException e)
            {
                // Its members keep what they have: unlinking everyone because Klaviyo lost a list would be worse.
                problem = e.Message;
                return await FinishAsync(new RichMenuSyncRun(started, clock.GetUtcNow(), 0, 0, 0, 0, 0, problem), workspaceId, accountId, held.Token);
            }
        }

        var current = await menus.ListLinksAsync(workspaceId, accountId, held.Token);
        var lineIds = allMenus.ToDictionary(m => m.Id, m => m.LineRichMenuId);
        var changes = desired.Where(d => current.GetValueOrDefault(d.Key) != d.Value && lineIds.ContainsKey(d.Value))
            .GroupBy(d => (string?)d.Value, d => d.Key)
            .Concat(current.Keys.Where(user => !desired.ContainsKey(user)).GroupBy(_ => (string?)null))
            .SelectMany(group => group.Chunk(UsersPerRequest).Select(users => (MenuId: group.Key, Users: users)))
            .ToList();
        var account = new LineAccountRef(workspaceId, accountId);
        await Parallel.ForEachAsync(changes, new ParallelOptions { MaxDegreeOfParallelism = ParallelRequests, CancellationToken = held.Token }, async (change, ct) =>
        {
            await SendAsync(account, change.MenuId is null ? null : lineIds[change.MenuId], change.Users, ct);
            await menus.SaveLinksAsync(workspaceId, accountId, change.Users, change.MenuId, ct);
        });
        var linked = changes.Where(c => c.MenuId is not null).Sum(c => c.Users.Length);
        var unlinked = changes.Where(c => c.MenuId is null).Sum(c => c.Users.Length);
        logger.LogInformation("Rich menus of account {AccountId}: {Linked} linked, {Unlinked} unlinked in {Requests} requests", accountId, linked, unlinked, changes.Count);
        return await FinishAsync(new RichMenuSyncRun(started, clock.GetUtcNow(), desired.Count + unlinked, linked, unlinked, desired.Count - linked, changes.Count, problem),
            workspaceId, accountId, held.Token);
    }

    private async Task<RichMenuSyncRun> FinishAsync(RichMenuSyncRun run, string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        await menus.SaveLastSyncAsync(workspaceId, accountId, run, cancellationToken);
        return run;
    }

    // LINE's rate limit is waited out (Retry-After) a few times; beyond that, or on any other failure, the sync fails
    // and its queue message is retried: links already made were recorded, so the retry sends only what is left.
    private Task SendAsync(LineAccountRef account, string? lineMenuId, IReadOnlyList<string> users, CancellationToken cancellationToken) =>
        ThrottleWaits.CallAsync(async () =>
        {
            await line.SetUsersRichMenuAsync(account, lineMenuId, users, cancellationToken);
            return true;
        }, MaxRateLimitWaits, TimeSpan.MaxValue, withoutRetryAfter: TimeSpan.FromSeconds(1), clock, cancellationToken);
}
