using Lumo.Core.Klaviyo;
using Lumo.Core.Secrets;
using Lumo.Core.Workspaces;

namespace Lumo.Core.IdLinkage;

/// <summary>What an administrator sets for ID linkage of one account (null secret: keep the stored one).</summary>
public sealed record IdLinkageDraft(string? LoginChannelId, string? LoginChannelSecret, string? FormId, string? FormCtaLabel, bool FormFlowControlled,
    string? ImportSegmentId, string? ImportUserIdProperty, string? LinkingTokenSegmentId = null);

/// <summary>Saving ID linkage settings: checked against Klaviyo (the form must be live, the segment must exist) before anything is written.</summary>
public sealed class IdLinkageAdministration(WorkspaceStore workspaces, IdLinkageSettingsStore store, LinkQrCodeStore qrCodes, ISecretStore secrets, KlaviyoClient klaviyo,
    TimeProvider clock)
{
    public const int MaxCtaLabelLength = 40;

    /// <summary>The saved settings, or the problems per field (nothing written); null settings and no errors: unknown account.</summary>
    public async Task<(IdLinkageSettings? Settings, Dictionary<string, string[]> Errors)> SaveAsync(string workspaceId, string accountId, IdLinkageDraft draft,
        string? ifMatch, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (await workspaces.GetAccountIfExistsAsync(workspaceId, accountId, cancellationToken) is null) return (null, errors);
        var current = await store.GetIfExistsAsync(workspaceId, accountId, cancellationToken);
        EditConflictException.ThrowIfStale(current?.ETag, ifMatch); // before the secret is written
        var secretStored = await secrets.GetIfExistsAsync(SecretNames.LoginChannelSecret(workspaceId, accountId), cancellationToken) is not null;

        if (draft.LoginChannelId is { } channelId && (channelId.Length is 0 or > 20 || !channelId.All(char.IsAsciiDigit)))
            errors["loginChannelId"] = ["The LINE Login channel ID is the number shown in the LINE Developers Console."];
        if (draft.LoginChannelSecret is { } secret && (secret.Length is < 16 or > 128 || secret.Any(char.IsWhiteSpace)))
            errors["loginChannelSecret"] = ["The channel secret is the 32-character value in the channel's Basic settings."];
        if (draft.LoginChannelId is not null && draft.LoginChannelSecret is null && (!secretStored || current?.LoginChannelId != draft.LoginChannelId))
            errors["loginChannelSecret"] = ["Give the LINE Login channel's secret with its channel ID."];
        if (draft.FormId is not null && draft.LoginChannelId is null)
            errors["loginChannelId"] = ["Form ID linkage goes through LINE Login: set the LINE Login channel first."];
        if (draft.FormCtaLabel is { Length: 0 or > MaxCtaLabelLength })
            errors["formCtaLabel"] = [$"The CTA label has 1 to {MaxCtaLabelLength} characters."];
        if ((draft.ImportSegmentId is null) != (draft.ImportUserIdProperty is null))
            errors["importSegmentId"] = ["The import needs both a source segment and the LINE User ID property."];
        if (draft.ImportUserIdProperty is { Length: 0 or > 200 })
            errors["importUserIdProperty"] = ["Name the Klaviyo profile property that holds LINE user IDs."];
        if (draft.LinkingTokenSegmentId is null && current?.LinkingTokenSegmentId is not null
            && (await qrCodes.ListAsync(workspaceId, accountId, cancellationToken)).Where(c => c.SignedUrlsOnly).Select(c => c.Name).ToList() is [_, ..] signedOnly)
            errors["linkingTokenSegmentId"] = [$"QR codes that refuse unsigned linking URLs ({string.Join(", ", signedOnly)}) would link nobody without linking tokens: keep the segment, or switch those codes (signedUrlsOnly false) first."];
        if (errors.Count > 0) return (null, errors);

        if (draft.FormId is not null)
        {
            var forms = await klaviyo.GetFormsAsync(workspaceId, cancellationToken);
            if (!forms.Any(f => f.Id == draft.FormId && f.Status == "live"))
                errors["formId"] = [$"The Klaviyo account has no live form '{draft.FormId}'. Live forms: {string.Join(", ", forms.Where(f => f.Status == "live").Select(f => $"{f.Id} ({f.Name})"))}."];
        }
        foreach (var (field, segmentId) in new[] { ("importSegmentId", draft.ImportSegmentId), ("linkingTokenSegmentId", draft.LinkingTokenSegmentId) })
        {
            if (segmentId is not null && !await SegmentExistsAsync(workspaceId, segmentId, cancellationToken))
                errors[field] = [$"The Klaviyo account has no segment '{segmentId}'."];
        }
        if (errors.Count > 0) return (null, errors);

        if (draft.LoginChannelSecret is not null)
            await secrets.SetAsync(SecretNames.LoginChannelSecret(workspaceId, accountId), draft.LoginChannelSecret, cancellationToken);
        IdLinkageSettings saved;
        try
        {
            saved = await store.SaveAsync(new IdLinkageSettings
            {
                WorkspaceId = workspaceId, AccountId = accountId, LoginChannelId = draft.LoginChannelId, FormId = draft.FormId,
                FormCtaLabel = draft.FormCtaLabel, FormFlowControlled = draft.FormFlowControlled, ImportSegmentId = draft.ImportSegmentId,
                ImportUserIdProperty = draft.ImportUserIdProperty, LinkingTokenSegmentId = draft.LinkingTokenSegmentId,
                LinkingTokenVersion = current?.LinkingTokenVersion ?? 0, UpdatedAt = clock.GetUtcNow(), ETag = ifMatch is "*" ? null : ifMatch,
            }, cancellationToken);
        }
        catch (Azure.RequestFailedException e) when (e.Status == 412)
        {
            throw new EditConflictException("The settings were changed by another request at the same time. Read them again and repeat the change.");
        }
        return (saved, errors);
    }

    /// <summary>
    /// Replaces every linking token of the account (after a linking URL leaked, say): URLs sent before stop linking,
    /// and the next pass writes the new tokens. Null when the account has no linking-token segment.
    /// </summary>
    public async Task<IdLinkageSettings?> RotateLinkingTokensAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        if (await store.GetIfExistsAsync(workspaceId, accountId, cancellationToken) is not { LinkingTokenSegmentId: not null } current) return null;
        try
        {
            return await store.SaveAsync(current with { LinkingTokenVersion = current.LinkingTokenVersion + 1, UpdatedAt = clock.GetUtcNow() }, cancellationToken);
        }
        catch (Azure.RequestFailedException e) when (e.Status == 412)
        {
            throw new EditConflictException("The settings were changed by another request at the same time. Rotate again.");
        }
    }

    private async Task<bool> SegmentExistsAsync(string workspaceId, string segmentId, CancellationToken cancellationToken)
    {
        try
        {
            await klaviyo.GetSegmentProfilesPageAsync(workspaceId, segmentId, null, cancellationToken);
            return true;
        }
        catch (KlaviyoApiException e) when (e.Status is 400 or 404)
        {
            return false;
        }
    }
}
