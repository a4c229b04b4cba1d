using System.Net.Mail;
using PhoneNumbers;

namespace Lumo.Core.Friends;

/// <summary>
/// Normalises the contact details used to match people: lower-case emails, E.164 phone numbers (as Klaviyo stores
/// them), reading national numbers in the workspace's region.
/// </summary>
public static class ContactDetails
{
    /// <summary>The address trimmed and lower-cased, or null (with a reason) when it is not an email address.</summary>
    public static string? NormaliseEmail(string? email, out string? error)
    {
        error = null;
        var trimmed = email?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > 254 || !MailAddress.TryCreate(trimmed, out var parsed) || parsed.Address != trimmed)
        {
            error = "Not an email address.";
            return null;
        }
        return trimmed.ToLowerInvariant();
    }

    /// <summary>Where national numbers are dialled when a workspace names no region.</summary>
    public const string FallbackRegion = "JP";

    /// <summary>
    /// The number in E.164 (<c>+819012345678</c>), parsed with libphonenumber the way customers type it: national
    /// form of the workspace's region (<c>090-1234-5678</c>, full-width digits, spaces, brackets), international form
    /// with or without the trunk zero (<c>+81 (0)90 1234 5678</c>), or a <c>00</c> international prefix. Null (with a
    /// reason) when it is not a valid number.
    /// </summary>
    public static string? NormalisePhone(string? phone, string? defaultRegion, out string? error)
    {
        error = null;
        var region = defaultRegion ?? FallbackRegion;
        var trimmed = phone?.Trim() ?? "";
        foreach (var candidate in trimmed.StartsWith("00", StringComparison.Ordinal) ? [trimmed, "+" + trimmed[2..]] : new[] { trimmed })
        {
            try
            {
                var number = Phones.Parse(candidate, region);
                if (Phones.IsValidNumber(number)) return Phones.Format(number, PhoneNumberFormat.E164);
            }
            catch (NumberParseException)
            {
            }
        }
        error = $"Not a valid phone number (national numbers are read as {region}): give it as typed, e.g. 090-1234-5678, or internationally, e.g. +81 90 1234 5678.";
        return null;
    }

    /// <summary>A region libphonenumber knows (ISO 3166-1 alpha-2, e.g. JP, TW, TH), upper-cased; null when it is not one.</summary>
    public static string? NormaliseRegion(string? region) =>
        region?.Trim().ToUpperInvariant() is { Length: 2 } upper && Phones.GetSupportedRegions().Contains(upper) ? upper : null;

    /// <summary>
    /// Both details at once, as the APIs take them: the normalised values of the given ones (null stays null), or
    /// the problem per field (<c>email</c>, <c>phoneNumber</c>).
    /// </summary>
    public static (string? Email, string? Phone, Dictionary<string, string[]> Errors) Normalise(string? email, string? phone, string? defaultRegion)
    {
        var errors = new Dictionary<string, string[]>();
        string? normalisedEmail = null, normalisedPhone = null;
        if (email is not null && (normalisedEmail = NormaliseEmail(email, out var emailError)) is null) errors["email"] = [emailError!];
        if (phone is not null && (normalisedPhone = NormalisePhone(phone, defaultRegion, out var phoneError)) is null) errors["phoneNumber"] = [phoneError!];
        return (normalisedEmail, normalisedPhone, errors);
    }

    /// <summary>
    /// How versions before the keyed hash (<see cref="ContactHasher"/>) indexed a normalised email or phone: a plain
    /// SHA-256, which anyone can compute for a guessed address. Kept only to find and remove such rows.
    /// </summary>
    public static string LegacyIndexHash(string normalised) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("lumo-contact\n" + normalised)))[..40];

    private static PhoneNumberUtil Phones => PhoneNumberUtil.GetInstance();
}
