using System.Buffers.Text;
using System.Text;

namespace Lumo.Sandbox.Klaviyo;

/// <summary>
/// The profiles endpoint's page cursor: the id of the last profile of the page before, so a page starts where that
/// one ended without reading the profiles before it. Opaque to the client (base64url), as Klaviyo's cursors are.
/// </summary>
internal static class ProfileCursor
{
    private const string Prefix = "after:";

    public static string After(string profileId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Prefix + profileId));

    /// <summary>The id the cursor names, "" for the first page (no cursor), or null when it is not a cursor this endpoint gave.</summary>
    public static string? TryRead(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor)) return "";
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            return text.StartsWith(Prefix, StringComparison.Ordinal) && text.Length > Prefix.Length ? text[Prefix.Length..] : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The index of the first id after <paramref name="after"/> in ids kept in ordinal order (binary search).</summary>
    public static int FirstIndexAfter(IList<string> ids, string after)
    {
        var (low, high) = (0, ids.Count);
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (string.CompareOrdinal(ids[middle], after) <= 0) low = middle + 1;
            else high = middle;
        }
        return low;
    }
}
