using Lumo.Core.Connections;
using Lumo.Core.Klaviyo;
using Lumo.Core.Workspaces;

namespace Lumo.Core.SyncData;

/// <summary>A Lumo → Klaviyo field: the account's property name, whether it is required (always written), whether it is written.</summary>
public sealed record LumoToKlaviyoField(string Property, bool Required, bool Enabled);

/// <summary>An account's sync rules: the six LINE properties it writes, and the Klaviyo profile fields it pulls onto linked friends.</summary>
public sealed record SyncRulesView(IReadOnlyList<LumoToKlaviyoField> LumoToKlaviyo, IReadOnlyList<string> KlaviyoToLumo);

/// <summary>A change of sync rules: properties to switch on or off by name, and the complete list of Klaviyo fields to pull.</summary>
public sealed record SyncRulesDraft(Dictionary<string, bool>? LumoToKlaviyo, List<string>? KlaviyoToLumo);

/// <summary>Klaviyo's profile fields offered under "Add Klaviyo Property": the standard ones and the custom properties the account's profiles carry.</summary>
public sealed record KlaviyoFieldChoices(IReadOnlyList<string> Standard, IReadOnlyList<string> Custom);

/// <summary>
/// Sync rules per LINE account. Required properties (ID matching and broadcast consent: LINE User ID, Follow Status,
/// Consent, Consent Updated At, Consent Source) are always written; LINE Display Name can be switched off, and then is
/// no longer written (nothing is deleted from Klaviyo). Klaviyo → Lumo fields are chosen from Klaviyo's standard
/// fields and the custom properties found on the account's profiles, checked against Klaviyo when saved.
/// </summary>
public sealed class SyncRules(WorkspaceStore workspaces, KlaviyoClient klaviyo, KlaviyoConnectionHealth health)
{
    public const int MaxPulledFields = 20;

    public static readonly IReadOnlyList<string> StandardKlaviyoFields =
    [
        "email", "phone_number", "first_name", "last_name", "organization", "title",
        "location.address1", "location.address2", "location.city", "location.region", "location.country", "location.zip",
    ];

    public static SyncRulesView ViewOf(LineAccount account)
    {
        var n = account.PropertyNames;
        return new SyncRulesView(
        [
            new(n.UserId, true, true), new(n.DisplayName, false, account.SyncDisplayName), new(n.FollowStatus, true, true), new(n.Consent, true, true),
            new(n.ConsentUpdatedAt, true, true), new(n.ConsentSource, true, true),
        ], account.PulledFields);
    }

    /// <summary>The fields to choose from, custom ones sampled from the account's profiles (a page of 100). Klaviyo's refusal is thrown.</summary>
    public async Task<KlaviyoFieldChoices> ListKlaviyoFieldsAsync(string workspaceId, CancellationToken cancellationToken)
    {
        try
        {
            var page = await klaviyo.GetProfilesPageAsync(workspaceId, null, null, cancellationToken);
            var custom = page.Items.SelectMany(p => p.Properties.Keys).Where(k => !k.StartsWith("LINE ", StringComparison.Ordinal)).Distinct()
                .Order(StringComparer.Ordinal).Select(k => "properties." + k).ToList();
            return new KlaviyoFieldChoices(StandardKlaviyoFields, custom);
        }
        catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
        {
            await health.PauseIfRefusedAsync(workspaceId, "listing Klaviyo profile properties", e, cancellationToken);
            throw;
        }
    }

    /// <summary>Saves the rules under the account's ETag (If-Match); errors by field name when the draft is not valid, and then nothing is written.</summary>
    public async Task<(LineAccount? Account, Dictionary<string, string[]> Errors)> SaveAsync(LineAccount account, SyncRulesDraft draft, string? ifMatch, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var rules = ViewOf(account).LumoToKlaviyo.ToDictionary(f => f.Property);
        foreach (var (property, enabled) in draft.LumoToKlaviyo ?? [])
        {
            if (!rules.TryGetValue(property, out var field))
                errors[$"lumoToKlaviyo.{property}"] = [$"{property} is not one of this account's LINE properties ({string.Join(", ", rules.Keys)})."];
            else if (field.Required && !enabled)
                errors[$"lumoToKlaviyo.{property}"] = [$"{property} is required for ID matching and broadcast consent and cannot be turned off."];
        }
        if (draft.KlaviyoToLumo?.Any(string.IsNullOrWhiteSpace) == true) errors["klaviyoToLumo"] = ["A Klaviyo field name is empty."];
        var pulled = draft.KlaviyoToLumo?.Where(f => !string.IsNullOrWhiteSpace(f)).Select(f => f.Trim()).Distinct().ToList();
        if (pulled is { Count: > MaxPulledFields }) errors["klaviyoToLumo"] = [$"At most {MaxPulledFields} Klaviyo fields can be pulled."];
        var custom = pulled?.Where(f => !StandardKlaviyoFields.Contains(f)).ToList() ?? [];
        if (custom.Count > 0 && errors.Count == 0)
        {
            var known = (await ListKlaviyoFieldsAsync(account.WorkspaceId, cancellationToken)).Custom;
            foreach (var field in custom.Where(f => !known.Contains(f)))
                errors[$"klaviyoToLumo.{field}"] = [field.StartsWith("properties.", StringComparison.Ordinal)
                    ? $"No profile in this Klaviyo account has the property {field["properties.".Length..]}."
                    : $"{field} is not a Klaviyo profile field: use one of {string.Join(", ", StandardKlaviyoFields)} or properties.<name>."];
        }
        if (errors.Count > 0) return (null, errors);
        EditConflictException.ThrowIfStale(account.ETag, ifMatch);
        var changed = account with
        {
            SyncDisplayName = draft.LumoToKlaviyo is { } toggles && toggles.TryGetValue(account.PropertyNames.DisplayName, out var display) ? display : account.SyncDisplayName,
            PulledFields = pulled ?? account.PulledFields,
        };
        return (await EditConflictException.OnConcurrentWriteAsync(() => workspaces.UpdateAccountAsync(changed, cancellationToken)), errors);
    }
}
