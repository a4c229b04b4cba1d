using System.Text.Json.Nodes;
using Lumo.Core.Klaviyo;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;

namespace Lumo.Core.Segments;

/// <summary>Queue message: evaluate a segment now and record its member count.</summary>
public sealed record SegmentCountRequest(string WorkspaceId, string AccountId, string SegmentId);

/// <summary>The admin's use cases for Lumo Segments: save a rule (checked against Klaviyo), delete, and count members now.</summary>
public sealed class SegmentAdministration(SegmentStore segments, WorkspaceStore workspaces, SegmentEvaluator evaluator, KlaviyoClient klaviyo, LumoQueues queues,
    TimeProvider clock, ILogger<SegmentAdministration> logger)
{
    public const int MaxNameLength = 100;
    /// <summary>A rule is stored in one table property (64 KiB of UTF-16).</summary>
    public const int MaxRuleLength = 30_000;

    /// <summary>
    /// Creates (<paramref name="id"/> null) or replaces a segment. Returns the problems by field instead when the name or
    /// rule is invalid or a list or segment it names does not exist in the workspace's Klaviyo account; nothing is
    /// written then. Null segment and no problems: the account (or the segment to replace) does not exist.
    /// </summary>
    /// <exception cref="EditConflictException">The segment changed since <paramref name="ifMatch"/>.</exception>
    public async Task<(LumoSegment? Segment, Dictionary<string, string[]> Errors)> SaveAsync(string workspaceId, string accountId, string? id, string? name,
        JsonNode? conditions, string? ifMatch, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
            errors["name"] = [$"Give the segment a name of 1 to {MaxNameLength} characters."];
        var rule = SegmentConditionParser.Parse(conditions, "conditions", errors);
        if (rule is not null && rule.ToJson().ToJsonString().Length > MaxRuleLength)
            errors["conditions"] = [$"The rule is longer than {MaxRuleLength:N0} characters as JSON; use fewer or shorter values."];
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, cancellationToken) is null) return (null, []);
        var existing = id is null ? null : await segments.GetIfExistsAsync(workspaceId, accountId, id, cancellationToken);
        if (id is not null && existing is null) return (null, []);
        if (rule is not null)
            foreach (var group in rule.Groups().Distinct())
                if (await MissingAsync(workspaceId, group, cancellationToken) is { } problem)
                    errors["conditions"] = [.. errors.GetValueOrDefault("conditions") ?? [], problem];
        if (errors.Count > 0) return (null, errors);

        var now = clock.GetUtcNow();
        var segment = new LumoSegment
        {
            WorkspaceId = workspaceId,
            AccountId = accountId,
            Id = existing?.Id ?? Ids.NewLumoId(),
            Name = name!,
            Conditions = rule!,
            CreatedAt = existing?.CreatedAt ?? now,
            UpdatedAt = now,
            // A changed rule makes the old count meaningless.
            LastEvaluation = null,
        };
        return (await segments.SaveAsync(segment, existing is null ? null : ifMatch ?? "*", cancellationToken), errors);
    }

    /// <summary>Queues an evaluation; its count and freshness show on the segment when it is done.</summary>
    public Task RequestCountAsync(LumoSegment segment, CancellationToken cancellationToken) =>
        queues.EnqueueAsync(QueueNames.SegmentCounts, new SegmentCountRequest(segment.WorkspaceId, segment.AccountId, segment.Id), cancellationToken);

    /// <summary>Evaluates a segment now and records the count on it (or why it could not be counted).</summary>
    public async Task<SegmentEvaluation?> CountAsync(SegmentCountRequest request, CancellationToken cancellationToken)
    {
        var segment = await segments.GetIfExistsAsync(request.WorkspaceId, request.AccountId, request.SegmentId, cancellationToken);
        if (segment is null) return null;
        SegmentEvaluation evaluation;
        try
        {
            evaluation = await evaluator.EvaluateAsync(segment.WorkspaceId, segment.AccountId, segment.Conditions, null, cancellationToken);
        }
        catch (SegmentEvaluationException e)
        {
            logger.LogWarning("Segment {SegmentId} could not be counted: {Reason}", segment.Id, e.Message);
            evaluation = new SegmentEvaluation(0, 0, 0, clock.GetUtcNow(), null, e.Message);
        }
        await segments.SaveEvaluationAsync(segment.WorkspaceId, segment.AccountId, segment.Id, evaluation, cancellationToken);
        return evaluation;
    }

    private async Task<string?> MissingAsync(string workspaceId, KlaviyoGroup group, CancellationToken cancellationToken)
    {
        try
        {
            await klaviyo.GetGroupProfilesPageAsync(workspaceId, group, null, cancellationToken, pageSize: 1);
            return null;
        }
        catch (KlaviyoApiException e) when (e.Status == 404)
        {
            return $"The Klaviyo account has no {group.Kind.ToString().ToLowerInvariant()} '{group.Id}'.";
        }
    }
}
