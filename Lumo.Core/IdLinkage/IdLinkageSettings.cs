using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;

namespace Lumo.Core.IdLinkage;

/// <summary>
/// ID linkage settings of one LINE account: the LINE Login channel (same provider as the Messaging API channel, so
/// that user IDs match; its secret is in the secret store), Form ID linkage, and the existing-ID import.
/// </summary>
public sealed record IdLinkageSettings
{
    public required string WorkspaceId { get; init; }
    public required string AccountId { get; init; }
    public string? LoginChannelId { get; init; }
    /// <summary>The Klaviyo form whose submissions are linked (Form ID linkage), its CTA label, and whether a Flow arms linking.</summary>
    public string? FormId { get; init; }
    public string? FormCtaLabel { get; init; }
    public bool FormFlowControlled { get; init; }
    /// <summary>The Klaviyo segment whose profiles carry existing LINE user IDs, and the property that holds them.</summary>
    public string? ImportSegmentId { get; init; }
    public string? ImportUserIdProperty { get; init; }
    /// <summary>The Klaviyo segment whose members are given linking tokens (the recipients of signed linking URLs).</summary>
    public string? LinkingTokenSegmentId { get; init; }
    /// <summary>Raised by a rotation: every token of the account changes, and the URLs sent before stop linking.</summary>
    public int LinkingTokenVersion { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public string? ETag { get; init; }

    public bool ImportConfigured => ImportSegmentId is not null && ImportUserIdProperty is not null;
}

public sealed class IdLinkageSettingsStore(LumoTables tables)
{
    public async Task<IdLinkageSettings?> GetIfExistsAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.IdLinkageSettings, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(workspaceId, accountId, cancellationToken: cancellationToken);
        return row.HasValue ? FromRow(row.Value!) : null;
    }

    /// <summary>Saves the settings; with an ETag only if nobody changed them since (412 otherwise).</summary>
    public async Task<IdLinkageSettings> SaveAsync(IdLinkageSettings settings, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.IdLinkageSettings, cancellationToken);
        var row = new TableEntity(settings.WorkspaceId, settings.AccountId)
        {
            ["LoginChannelId"] = settings.LoginChannelId, ["FormId"] = settings.FormId, ["FormCtaLabel"] = settings.FormCtaLabel,
            ["FormFlowControlled"] = settings.FormFlowControlled, ["ImportSegmentId"] = settings.ImportSegmentId,
            ["ImportUserIdProperty"] = settings.ImportUserIdProperty, ["LinkingTokenSegmentId"] = settings.LinkingTokenSegmentId,
            ["LinkingTokenVersion"] = settings.LinkingTokenVersion, ["UpdatedAt"] = settings.UpdatedAt,
        };
        var response = settings.ETag is null
            ? await table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken)
            : await table.UpdateEntityAsync(row, new ETag(settings.ETag), TableUpdateMode.Replace, cancellationToken);
        return settings with { ETag = response.Headers.ETag?.ToString() };
    }

    public async Task DeleteAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.IdLinkageSettings, cancellationToken);
        await table.DeleteEntityAsync(workspaceId, accountId, ETag.All, cancellationToken);
    }

    /// <summary>Every account's settings that match (a short list: one row per LINE account).</summary>
    public async Task<List<IdLinkageSettings>> ListAsync(Func<IdLinkageSettings, bool> which, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.IdLinkageSettings, cancellationToken);
        var result = new List<IdLinkageSettings>();
        await foreach (var row in table.QueryAsync<TableEntity>(cancellationToken: cancellationToken))
            if (FromRow(row) is var settings && which(settings)) result.Add(settings);
        return result;
    }

    private static IdLinkageSettings FromRow(TableEntity row) => new()
    {
        WorkspaceId = row.PartitionKey, AccountId = row.RowKey, LoginChannelId = row.GetString("LoginChannelId"), FormId = row.GetString("FormId"),
        FormCtaLabel = row.GetString("FormCtaLabel"), FormFlowControlled = row.GetBoolean("FormFlowControlled") ?? false,
        ImportSegmentId = row.GetString("ImportSegmentId"), ImportUserIdProperty = row.GetString("ImportUserIdProperty"),
        LinkingTokenSegmentId = row.GetString("LinkingTokenSegmentId"), LinkingTokenVersion = row.GetInt32("LinkingTokenVersion") ?? 0,
        UpdatedAt = row.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue, ETag = row.ETag.ToString(),
    };
}
