using System.Net.Mail;
using System.Text.RegularExpressions;

namespace Lumo.Core.Friends;

/// <summary>Normalises the contact details used to match people: lower-case emails, E.164 phone numbers.</summary>
public static partial class ContactDetails
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

    /// <summary>
    /// The number in E.164 (<c>+</c>, country code, subscriber number: 8 to 15 digits), from input that may carry
    /// spaces, dashes, dots, brackets or a <c>00</c> international prefix. National numbers (a leading 0) are
    /// refused: without the country they are ambiguous.
    /// </summary>
    public static string? NormalisePhone(string? phone, out string? error)
    {
        error = null;
        var compact = Separators().Replace(phone ?? "", "");
        if (compact.StartsWith("00", StringComparison.Ordinal)) compact = "+" + compact[2..];
        if (!E164().IsMatch(compact))
        {
            error = "A phone number must be in international form, e.g. +81 90 1234 5678.";
            return null;
        }
        return compact;
    }

    /// <summary>
    /// Both details at once, as the APIs take them: the normalised values of the given ones (null stays null), or
    /// the problem per field (<c>email</c>, <c>phoneNumber</c>).
    /// </summary>
    public static (string? Email, string? Phone, Dictionary<string, string[]> Errors) Normalise(string? email, string? phone)
    {
        var errors = new Dictionary<string, string[]>();
        string? normalisedEmail = null, normalisedPhone = null;
        if (email is not null && (normalisedEmail = NormaliseEmail(email, out var emailError)) is null) errors["email"] = [emailError!];
        if (phone is not null && (normalisedPhone = NormalisePhone(phone, out var phoneError)) is null) errors["phoneNumber"] = [phoneError!];
        return (normalisedEmail, normalisedPhone, errors);
    }

    /// <summary>
    /// The key under which a normalised email or phone is indexed: a SHA-256, so that raw contact details never
    /// appear in table keys (keys show up in logs, metrics and storage tooling).
    /// </summary>
    public static string IndexHash(string normalised) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("lumo-contact\n" + normalised)))[..40];

    [GeneratedRegex(@"[\s\-\.\(\)]")]
    private static partial Regex Separators();

    [GeneratedRegex(@"^\+[1-9][0-9]{7,14}$")]
    private static partial Regex E164();
}
