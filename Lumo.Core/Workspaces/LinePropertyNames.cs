namespace Lumo.Core.Workspaces;

/// <summary>
/// The Klaviyo profile property names Lumo writes for one LINE Official Account. These are a contract:
/// merchants build segments on them. The Nth connected account (N ≥ 2) appends " N" (DESIGN §4).
/// </summary>
public sealed record LinePropertyNames(
    string UserId, string DisplayName, string FollowStatus, string Consent, string ConsentUpdatedAt, string ConsentSource, string LinkingToken)
{
    public static LinePropertyNames ForOrdinal(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ordinal, 1);
        var suffix = ordinal >= 2 ? $" {ordinal}" : "";
        return new LinePropertyNames(
            "LINE User ID" + suffix,
            "LINE Display Name" + suffix,
            "LINE Follow Status" + suffix,
            "LINE Consent" + suffix,
            "LINE Consent Updated At" + suffix,
            "LINE Consent Source" + suffix,
            "LINE Linking Token" + suffix);
    }
}
