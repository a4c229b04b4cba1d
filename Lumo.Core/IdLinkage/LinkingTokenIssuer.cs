using Lumo.Core.Connections;
using Lumo.Core.Klaviyo;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.IdLinkage;

/// <summary>
/// Queue message: write linking tokens for an account's token segment, as asked at <see cref="RequestedAt"/> (by the
/// schedule or an administrator); or go on with pass <see cref="PassId"/> from page <see cref="Next"/>.
/// </summary>
public sealed record LinkingTokenRequest(string WorkspaceId, string AccountId, DateTimeOffset RequestedAt, string? Next = null, string? HandoverFrom = null,
    string? PassId = null);

/// <summary>
/// Writes each member of the account's linking-token segment its <see cref="LinkingTokens">linking token</see>
/// (<c>LINE Linking Token</c>, suffixed per account), so that a Klaviyo template can put it in linking URLs. A
/// member that already holds the right token costs nothing but its share of a page read, so the pass every 15
/// minutes only writes new members; the writes go in bulk profile import jobs (≤ 10,000 profiles each). A write
/// that Klaviyo loses is simply made again by the next pass. One pass per account at a time (a lease): a request
/// that finds a pass running is looked at again after <see cref="BusyRetryDelay"/>, and is done once a pass that
/// started after it has completed (so requests made during a long pass coalesce into one). A long segment hands
/// over to a fresh invocation after <see cref="RunBudget"/>.
/// </summary>
public sealed class LinkingTokenIssuer(IdLinkageSettingsStore settingsStore, WorkspaceStore workspaces, LinkingTokens tokens, SegmentWalk segment,
    KlaviyoClient klaviyo, KlaviyoConnectionHealth health, LinkingTokenPasses passes, LeaseStore leases, LumoQueues queues, TimeProvider clock,
    ILogger<LinkingTokenIssuer> logger)
{
    private const string LeaseScope = "linking-tokens";
    private const int MaxProfilesPerJob = 10_000;
    private readonly string _owner = Guid.NewGuid().ToString("N");
    public static readonly TimeSpan BusyRetryDelay = TimeSpan.FromSeconds(15);

    /// <summary>How long one invocation works before handing over (settable so tests can force a hand-over).</summary>
    public TimeSpan RunBudget { get; set; } = TimeSpan.FromMinutes(8);

    /// <summary>Runs (part of) a pass; returns the pass as it stands, or null when there was nothing to do.</summary>
    public async Task<LinkingTokenPass?> RunAsync(LinkingTokenRequest request, CancellationToken cancellationToken)
    {
        var settings = await settingsStore.GetIfExistsAsync(request.WorkspaceId, request.AccountId, cancellationToken);
        var account = await workspaces.GetAccountIfExistsAsync(request.WorkspaceId, request.AccountId, cancellationToken);
        var leaseKey = AccountPartition.Of(request.WorkspaceId, request.AccountId);
        if (account is null || (request.PassId is null && settings?.LinkingTokenSegmentId is null) || await health.IsPausedAsync(account.WorkspaceId, cancellationToken))
            return null;
        if (!await leases.TryAcquireAsync(LeaseScope, leaseKey, _owner, RunBudget + TimeSpan.FromMinutes(2), cancellationToken, takingOverFrom: request.HandoverFrom))
        {
            // The running pass may already be past the members this request is about: look again once it is done.
            await queues.EnqueueAsync(QueueNames.LinkingTokens, request, cancellationToken, delay: BusyRetryDelay);
            return null;
        }
        var handedOver = false;
        try
        {
            var last = await passes.GetIfExistsAsync(account.WorkspaceId, account.Id, cancellationToken);
            LinkingTokenPass pass;
            if (request.PassId is not null)
            {
                // A continuation goes on only with the pass that handed it over (a newer pass may have replaced it),
                // and only while that pass's segment is still the one in the settings.
                if (last is not { Status: "running" } || last.Id != request.PassId) return null;
                if (settings?.LinkingTokenSegmentId != last.SegmentId)
                {
                    await passes.SaveAsync(last = last with { Status = "stopped", FinishedAt = clock.GetUtcNow(), Problem = "The linking-token segment was changed or removed in the settings." }, cancellationToken);
                    return last;
                }
                pass = last;
            }
            else
            {
                if (last is { Status: "completed" } && last.StartedAt > request.RequestedAt && last.SegmentId == settings!.LinkingTokenSegmentId)
                    return last; // a pass that started after this request has done its work
                pass = new LinkingTokenPass
                {
                    Id = Guid.NewGuid().ToString("N"), WorkspaceId = account.WorkspaceId, AccountId = account.Id, SegmentId = settings!.LinkingTokenSegmentId!,
                    StartedAt = clock.GetUtcNow(),
                };
            }
            try
            {
                (pass, handedOver) = await IssueAsync(account, settings!.LinkingTokenVersion, pass, request.Next, clock.GetUtcNow(), cancellationToken);
                return pass;
            }
            catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
            {
                await health.PauseIfRefusedAsync(account.WorkspaceId, "linking tokens", e, cancellationToken);
                await passes.SaveAsync(pass = pass with { Status = "paused", FinishedAt = clock.GetUtcNow(), Problem = "The Klaviyo connection needs reconnecting." }, cancellationToken);
                return pass;
            }
        }
        finally
        {
            // A pass that handed over keeps the lease for its successor (which takes it over by name), so no other
            // request slips in between and starts a second pass.
            if (!handedOver) await leases.ReleaseAsync(LeaseScope, leaseKey, _owner, CancellationToken.None);
        }
    }

    private async Task<(LinkingTokenPass Pass, bool HandedOver)> IssueAsync(LineAccount account, int tokenVersion, LinkingTokenPass pass, string? next,
        DateTimeOffset started, CancellationToken cancellationToken)
    {
        var property = account.PropertyNames.LinkingToken;
        var toWrite = new Queue<KlaviyoProfileUpsert>();
        var end = await segment.RunAsync(account.WorkspaceId, pass.SegmentId, next, started, RunBudget, async profiles =>
        {
            foreach (var profile in profiles)
            {
                var token = await tokens.ForProfileAsync(account.WorkspaceId, account.Id, profile.Id, tokenVersion, cancellationToken);
                if (profile.TextProperty(property) != token)
                    toWrite.Enqueue(new KlaviyoProfileUpsert(profile.Id, null, null, new Dictionary<string, object?> { [property] = token }));
            }
            pass = pass with { Profiles = pass.Profiles + profiles.Count };
            if (toWrite.Count >= MaxProfilesPerJob) pass = await WriteAsync(account, pass, toWrite, cancellationToken);
        }, cancellationToken);
        pass = await WriteAsync(account, pass, toWrite, cancellationToken);

        if (end.SegmentGone)
            pass = pass with { Status = "stopped", FinishedAt = clock.GetUtcNow(), Problem = $"The linking-token segment {pass.SegmentId} no longer exists in Klaviyo." };
        else if (end.Completed)
            pass = pass with { Status = "completed", FinishedAt = clock.GetUtcNow() };
        await passes.SaveAsync(pass, cancellationToken);
        if (end.ContinueFrom is { } continueFrom)
        {
            await queues.EnqueueAsync(QueueNames.LinkingTokens,
                new LinkingTokenRequest(account.WorkspaceId, account.Id, pass.StartedAt, continueFrom, HandoverFrom: _owner, PassId: pass.Id), cancellationToken);
            return (pass, true);
        }
        logger.LogInformation("Linking tokens of account {AccountId}: {Status}, {Profiles} profiles, {Written} written", account.Id, pass.Status, pass.Profiles, pass.Written);
        return (pass, false);
    }

    private async Task<LinkingTokenPass> WriteAsync(LineAccount account, LinkingTokenPass pass, Queue<KlaviyoProfileUpsert> toWrite, CancellationToken cancellationToken)
    {
        var batch = new List<KlaviyoProfileUpsert>();
        while (batch.Count < MaxProfilesPerJob && toWrite.TryDequeue(out var profile)) batch.Add(profile);
        if (batch.Count == 0) return pass;
        await klaviyo.CreateProfileImportJobAsync(account.WorkspaceId, batch, cancellationToken);
        return pass with { Written = pass.Written + batch.Count };
    }
}
