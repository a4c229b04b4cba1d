using System.Text.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Connections;
using Lumo.Core.Friends;
using Lumo.Core.IdLinkage;
using Lumo.Core.Klaviyo;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.SyncData;

/// <summary>Queue message: pull (or go on pulling) Klaviyo profile fields for an account; a continuation names the invocation that queued it.</summary>
public sealed record KlaviyoPullRequest(string WorkspaceId, string AccountId, string? RunId = null, string? HandoverFrom = null);

/// <summary>
/// Klaviyo → Lumo: pages through the Klaviyo profiles updated since the last completed pull (less
/// <see cref="Overlap"/>, so a change made while that pull ran is not missed; the first pull reads every profile) and
/// stores the account's chosen fields on the linked friends, never replacing fields taken from a newer version of the
/// profile. When email or phone number are among the fields, they become the friend's contact details (and hashed
/// index), and unlinked friends whose contact details match a changed profile — both when the friend has both — are
/// linked to it ("automatic linking from synced data"). A value of the wrong kind for a friend field (an object or a
/// list, an invalid email or phone) is a per-profile failure in the run. One pull per account at a time (a lease);
/// runs hand over after <see cref="RunBudget"/>; a refused credential pauses the run, and the next scheduled pull
/// after reconnecting goes on from where it stopped.
/// </summary>
public sealed class KlaviyoProfilePull(WorkspaceStore workspaces, LineFriendStore friends, KlaviyoClient klaviyo, IdLinking linking, KlaviyoConnectionHealth health,
    SyncRunHistory history, LeaseStore leases, LumoQueues queues, TimeProvider clock, ILogger<KlaviyoProfilePull> logger)
{
    public static readonly TimeSpan Overlap = TimeSpan.FromMinutes(2);
    private const string LeaseScope = "klaviyo-pull";
    private const int Parallelism = 16;
    private readonly string _owner = Guid.NewGuid().ToString("N");

    /// <summary>How long one invocation works before handing over (settable so tests can force a hand-over).</summary>
    public TimeSpan RunBudget { get; set; } = TimeSpan.FromMinutes(8);

    private sealed record Cursor(DateTimeOffset? Since, string? Next);

    /// <summary>Pulls (part of) the changes; returns the run as it stands, or null when there was nothing to do (no fields chosen, paused, or a pull already at work).</summary>
    public async Task<SyncRun?> RunAsync(KlaviyoPullRequest request, CancellationToken cancellationToken)
    {
        var account = await workspaces.GetAccountIfExistsAsync(request.WorkspaceId, request.AccountId, cancellationToken);
        var leaseKey = AccountPartition.Of(request.WorkspaceId, request.AccountId);
        if (account is not { PulledFields.Count: > 0 } || await health.IsPausedAsync(account.WorkspaceId, cancellationToken)
            || !await leases.TryAcquireAsync(LeaseScope, leaseKey, _owner, RunBudget + TimeSpan.FromMinutes(2), cancellationToken, takingOverFrom: request.HandoverFrom))
            return null;
        var handedOver = false;
        try
        {
            var run = await RunToResumeAsync(account, request.RunId, cancellationToken);
            run = await PullPagesAsync(account, run with { Status = SyncRunStatus.Running }, clock.GetUtcNow() + RunBudget, cancellationToken);
            await history.SaveAsync(run, cancellationToken);
            if (run.Status == SyncRunStatus.Running)
            {
                await queues.EnqueueAsync(QueueNames.KlaviyoPulls, new KlaviyoPullRequest(account.WorkspaceId, account.Id, run.Id, _owner), cancellationToken);
                handedOver = true;
            }
            return run;
        }
        finally
        {
            if (!handedOver) await leases.ReleaseAsync(LeaseScope, leaseKey, _owner, CancellationToken.None);
        }
    }

    // The run named by a continuation, else a pull that stopped unfinished (paused, or its invocation lost), else a new one
    // from the last completed pull's start less the overlap.
    private async Task<SyncRun> RunToResumeAsync(LineAccount account, string? runId, CancellationToken cancellationToken)
    {
        var recent = await history.ListAsync(account.WorkspaceId, account.Id, 20, cancellationToken, SyncKinds.KlaviyoPull);
        if ((runId is null ? recent.FirstOrDefault() : recent.FirstOrDefault(r => r.Id == runId)) is { IsFinished: false } unfinished) return unfinished;
        var now = clock.GetUtcNow();
        var since = recent.FirstOrDefault(r => r.Status == SyncRunStatus.Completed)?.StartedAt - Overlap;
        var run = new SyncRun
        {
            Id = SyncRunHistory.NewRunId(now), WorkspaceId = account.WorkspaceId, AccountId = account.Id, Kind = SyncKinds.KlaviyoPull, StartedAt = now,
            Cursor = JsonSerializer.Serialize(new Cursor(since, null)),
        };
        await history.SaveAsync(run, cancellationToken);
        return run;
    }

    private async Task<SyncRun> PullPagesAsync(LineAccount account, SyncRun run, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var cursor = JsonSerializer.Deserialize<Cursor>(run.Cursor!)!;
        var workspace = await workspaces.GetWorkspaceIfExistsAsync(account.WorkspaceId, cancellationToken);
        try
        {
            do
            {
                var page = await klaviyo.GetProfilesPageAsync(account.WorkspaceId, cursor.Since, cursor.Next, cancellationToken);
                var outcomes = new List<(string Outcome, string? Failure)>();
                await Parallel.ForEachAsync(page.Items, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (profile, ct) =>
                {
                    var outcome = await ApplyAsync(account, workspace?.DefaultRegion, profile, ct);
                    lock (outcomes) outcomes.Add(outcome);
                });
                foreach (var (outcome, failure) in outcomes)
                    run = (failure is null ? run.WithCount(outcome, 1) : run.WithFailure(failure)) with { Profiles = run.Profiles + 1 };
                cursor = cursor with { Next = page.Next };
                run = run with { Cursor = JsonSerializer.Serialize(cursor) };
                await history.SaveAsync(run, cancellationToken); // the page is done: a crash goes on from the next one
            } while (cursor.Next is not null && clock.GetUtcNow() < deadline);
        }
        catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
        {
            // Paused, not failed: after reconnecting, the next scheduled pull goes on from this page.
            await health.PauseIfRefusedAsync(account.WorkspaceId, "Klaviyo profile pull", e, cancellationToken);
            return run with { Problem = "The Klaviyo connection needs reconnecting; the pull goes on from here once it is reconnected." };
        }
        if (cursor.Next is not null) return run; // out of time: handed over
        logger.LogInformation("Pulled Klaviyo fields for account {AccountId}: {Profiles} changed profiles, {Failures} failures", account.Id, run.Profiles, run.Failures);
        return run with { Status = SyncRunStatus.Completed, FinishedAt = clock.GetUtcNow(), Cursor = null, Problem = null };
    }

    private async Task<(string Outcome, string? Failure)> ApplyAsync(LineAccount account, string? defaultRegion, KlaviyoProfile profile, CancellationToken cancellationToken)
    {
        var fields = new Dictionary<string, string>();
        foreach (var name in account.PulledFields)
        {
            switch (profile.Field(name))
            {
                case null:
                    break;
                case JsonValue value:
                    fields[name] = value.TryGetValue<string>(out var text) ? text : value.ToJsonString();
                    break;
                default:
                    return ("failed", $"{profile.Id}: {name} is {(profile.Field(name) is JsonArray ? "a list" : "an object")}; a friend field holds text, a number or true/false.");
            }
        }
        var pullsContact = account.PulledFields.Contains("email") || account.PulledFields.Contains("phone_number");
        var (email, phone, errors) = pullsContact
            ? ContactDetails.Normalise(fields.GetValueOrDefault("email"), fields.GetValueOrDefault("phone_number"), defaultRegion)
            : (null, null, []);
        if (errors.Count > 0) return ("failed", $"{profile.Id}: {string.Join(" ", errors.SelectMany(e => e.Value))}");

        var userId = await friends.FindLinkedUserAsync(account.WorkspaceId, account.Id, profile.Id, cancellationToken);
        var autoLinked = false;
        if (userId is null)
        {
            if (!pullsContact || (email is null && phone is null)) return ("notLinked", null);
            if ((userId = await AutoLinkAsync(account, profile, email, phone, cancellationToken)) is null) return ("notLinked", null);
            autoLinked = true;
        }
        var updatedAt = profile.Updated ?? clock.GetUtcNow();
        var outcome = "friendsUpdated";
        await friends.UpdateAsync(account.WorkspaceId, account.Id, userId, f =>
        {
            // A version of the profile this friend already has, or an older one (a slow page), changes nothing.
            outcome = f.KlaviyoFieldsUpdatedAt is not { } at || at < updatedAt ? "friendsUpdated" : at == updatedAt ? "unchanged" : "olderIgnored";
            return outcome == "friendsUpdated" ? f with { KlaviyoFields = fields, KlaviyoFieldsUpdatedAt = updatedAt } : f;
        }, cancellationToken);
        if (outcome == "friendsUpdated" && pullsContact && (email is not null || phone is not null))
            await friends.SetContactAsync(account.WorkspaceId, account.Id, userId, email, phone, cancellationToken);
        return (autoLinked ? "autoLinked" : outcome, null);
    }

    // Unlinked friends whose contact details match the profile's: a friend with both email and phone needs both to match.
    private async Task<string?> AutoLinkAsync(LineAccount account, KlaviyoProfile profile, string? email, string? phone, CancellationToken cancellationToken)
    {
        var candidates = new Dictionary<string, LineFriend>();
        foreach (var (byEmail, byPhone) in new[] { (email, (string?)null), (null, phone) }.Where(c => c.Item1 is not null || c.Item2 is not null))
            foreach (var friend in await friends.FindByContactAsync(account.WorkspaceId, account.Id, byEmail, byPhone, cancellationToken))
                candidates[friend.UserId] = friend;
        var matching = candidates.Values.Where(f => !f.IsLinked && (f.Email is null || f.Email == email) && (f.PhoneNumber is null || f.PhoneNumber == phone)).ToList();
        if (matching.Count != 1) return null; // none, or several friends for one profile: an administrator decides
        var result = await linking.LinkAsync(account, matching[0].UserId, profile.Id, LinkMethods.AutoSyncedData, matching[0].DisplayName, cancellationToken);
        return result.Outcome == LinkWriteOutcome.Linked ? matching[0].UserId : null;
    }
}
