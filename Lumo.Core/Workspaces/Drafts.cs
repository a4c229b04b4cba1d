using System.Text.RegularExpressions;

namespace Lumo.Core.Workspaces;

/// <summary>Input for creating (all fields) or updating (only the given fields) a workspace.</summary>
public sealed record WorkspaceDraft(string? Name, KlaviyoCredentialsDraft? Klaviyo, string? DefaultRegion = null)
{
    public Dictionary<string, string[]> Validate(bool isUpdate)
    {
        var errors = new FieldErrors();
        errors.CheckName("name", Name, required: !isUpdate);
        if (DefaultRegion is not null && Friends.ContactDetails.NormaliseRegion(DefaultRegion) is null)
            errors.Add("defaultRegion", "The default region is a two-letter country code with phone numbering, such as JP, TW or TH.");
        if (Klaviyo is null && !isUpdate)
            errors.Add("klaviyo", "The Klaviyo connection is required.");
        Klaviyo?.Validate(errors, "klaviyo");
        return errors.ToDictionary();
    }
}

/// <summary>Klaviyo private API key (https://developers.klaviyo.com/en/docs/authenticate_#private-key-authentication).</summary>
public sealed record KlaviyoCredentialsDraft(string? PrivateApiKey)
{
    internal void Validate(FieldErrors errors, string path)
    {
        if (string.IsNullOrWhiteSpace(PrivateApiKey))
            errors.Add($"{path}.privateApiKey", "A Klaviyo private API key is required.");
        else if (!PrivateApiKey.StartsWith("pk_", StringComparison.Ordinal) || PrivateApiKey.Length > 200 || PrivateApiKey.Any(char.IsWhiteSpace))
            errors.Add($"{path}.privateApiKey", "A Klaviyo private API key starts with \"pk_\" and has no spaces.");
    }
}

/// <summary>Input for connecting (all fields) or updating (only the given fields) a LINE Official Account.</summary>
public sealed partial record LineAccountDraft(string? Name, string? ChannelId, string? ChannelSecret, string? ChannelAccessToken, bool? TrackOpensAndClicks = null)
{
    public Dictionary<string, string[]> Validate(bool isUpdate)
    {
        var errors = new FieldErrors();
        errors.CheckName("name", Name, required: !isUpdate);
        if (ChannelId is not null || !isUpdate)
        {
            if (ChannelId is null || !ChannelIdPattern().IsMatch(ChannelId))
                errors.Add("channelId", "The Messaging API channel ID is the 10-digit number shown in the LINE Developers Console.");
        }
        if (ChannelSecret is not null || !isUpdate)
        {
            if (ChannelSecret is null || !ChannelSecretPattern().IsMatch(ChannelSecret))
                errors.Add("channelSecret", "The channel secret is 32 hexadecimal characters (LINE Developers Console, Basic settings).");
        }
        if (ChannelAccessToken is not null || !isUpdate)
        {
            if (string.IsNullOrWhiteSpace(ChannelAccessToken) || ChannelAccessToken.Length > 1000 || ChannelAccessToken.Any(char.IsWhiteSpace))
                errors.Add("channelAccessToken", "A channel access token (Messaging API tab) is required and has no spaces.");
        }
        return errors.ToDictionary();
    }

    [GeneratedRegex("^[0-9]{10}$")]
    private static partial Regex ChannelIdPattern();

    [GeneratedRegex("^[0-9a-fA-F]{32}$")]
    private static partial Regex ChannelSecretPattern();
}

internal sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new();

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
            _errors[field] = list = [];
        list.Add(message);
    }

    public void CheckName(string field, string? value, bool required)
    {
        if (value is null)
        {
            if (required) Add(field, "A name is required.");
            return;
        }
        if (string.IsNullOrWhiteSpace(value) || value.Length > 100)
            Add(field, "A name has 1 to 100 characters.");
    }

    public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
}
