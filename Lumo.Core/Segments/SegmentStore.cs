using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;
using Lumo.Core.Workspaces;

namespace Lumo.Core.Segments;

/// <summary>What one evaluation of a segment found, and when: the count is as fresh as <see cref="EvaluatedAt"/>.</summary>
/// <param name="Members">Friends matching the rule.</param>
/// <param name="Reachable">Of those, the ones who have not blocked the account (a broadcast's recipients).</param>
/// <param name="FriendsScanned">Friends of the account looked at.</param>
/// <param name="EvaluatedAt">When the evaluation finished.</param>
/// <param name="KlaviyoReadAt">When the Klaviyo lists, segments and properties behind the count were read (null: the rule reads none).</param>
/// <param name="Error">Why the segment could not be evaluated (a list it reads was deleted in Klaviyo), if so.</param>
public sealed record SegmentEvaluation(int Members, int Reachable, int FriendsScanned, DateTimeOffset EvaluatedAt, DateTimeOffset? KlaviyoReadAt, string? Error = null);

/// <summary>A Lumo Segment of one LINE account: a rule evaluated whenever it is used, never a frozen member list.</summary>
public sealed record LumoSegment
{
    public required string WorkspaceId { get; init; }
    public required string AccountId { get; init; }
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required SegmentCondition Conditions { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>The latest evaluation (a count request or a broadcast), for the member count and its freshness.</summary>
    public SegmentEvaluation? LastEvaluation { get; init; }
    public string? ETag { get; init; }
}

/// <summary>Lumo Segments: one partition per LINE account (<see cref="AccountPartition"/>), one row per segment.</summary>
public sealed class SegmentStore(LumoTables tables)
{
    public async Task<LumoSegment?> GetIfExistsAsync(string workspaceId, string accountId, string id, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(AccountPartition.Of(workspaceId, accountId), id, cancellationToken: cancellationToken);
        return row.HasValue ? ToSegment(row.Value!) : null;
    }

    public async Task<List<LumoSegment>> ListAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        var result = new List<LumoSegment>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, cancellationToken: cancellationToken))
            result.Add(ToSegment(row));
        return result.OrderBy(s => s.Name, StringComparer.CurrentCultureIgnoreCase).ToList();
    }

    /// <summary>Creates the segment, or replaces it when <paramref name="ifMatch"/> is its current ETag ("*" or null: any).</summary>
    /// <exception cref="EditConflictException">The segment changed since <paramref name="ifMatch"/> was read.</exception>
    public async Task<LumoSegment> SaveAsync(LumoSegment segment, string? ifMatch, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var entity = ToEntity(segment);
        try
        {
            var response = ifMatch is null or "*"
                ? await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken)
                : await table.UpdateEntityAsync(entity, new ETag(ifMatch), TableUpdateMode.Replace, cancellationToken);
            return segment with { ETag = response.Headers.ETag?.ToString() };
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            throw new EditConflictException($"Segment '{segment.Id}' changed since it was read (If-Match {ifMatch}). Read it again and retry.");
        }
    }

    /// <summary>Records an evaluation's outcome without touching the rule (merged, so a concurrent edit of the rule stands).</summary>
    public async Task SaveEvaluationAsync(string workspaceId, string accountId, string id, SegmentEvaluation evaluation, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        try
        {
            await table.UpdateEntityAsync(new TableEntity(AccountPartition.Of(workspaceId, accountId), id) { ["LastEvaluation"] = JsonSerializer.Serialize(evaluation, LumoJson.Options) },
                ETag.All, TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // Deleted meanwhile: nothing to show the count on.
        }
    }

    public async Task<bool> DeleteAsync(string workspaceId, string accountId, string id, CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken);
        var response = await table.DeleteEntityAsync(AccountPartition.Of(workspaceId, accountId), id, ETag.All, cancellationToken);
        return response.Status != 404;
    }

    private Task<TableClient> Table(CancellationToken cancellationToken) => tables.GetAsync(TableNames.Segments, cancellationToken);

    private static TableEntity ToEntity(LumoSegment s) => new(AccountPartition.Of(s.WorkspaceId, s.AccountId), s.Id)
    {
        ["Name"] = s.Name,
        ["Conditions"] = s.Conditions.ToJson().ToJsonString(),
        ["CreatedAt"] = s.CreatedAt,
        ["UpdatedAt"] = s.UpdatedAt,
        ["LastEvaluation"] = s.LastEvaluation is null ? null : JsonSerializer.Serialize(s.LastEvaluation, LumoJson.Options),
    };

    private static LumoSegment ToSegment(TableEntity e)
    {
        var (workspaceId, accountId) = AccountPartition.Parse(e.PartitionKey);
        var errors = new Dictionary<string, string[]>();
        return new LumoSegment
        {
            WorkspaceId = workspaceId,
            AccountId = accountId,
            Id = e.RowKey,
            Name = e.GetString("Name"),
            // Stored only after validation, so it parses; a rule that no longer would is a bug worth failing loudly on.
            Conditions = SegmentConditionParser.Parse(JsonNode.Parse(e.GetString("Conditions")), "conditions", errors)
                         ?? throw new InvalidOperationException($"Stored segment {e.RowKey} has an invalid rule: {string.Join("; ", errors.Values.SelectMany(v => v))}"),
            CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? default,
            UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? default,
            LastEvaluation = e.GetString("LastEvaluation") is { } json ? JsonSerializer.Deserialize<SegmentEvaluation>(json, LumoJson.Options) : null,
            ETag = e.ETag.ToString(),
        };
    }
}
