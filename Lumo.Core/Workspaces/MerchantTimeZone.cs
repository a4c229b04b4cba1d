namespace Lumo.Core.Workspaces;

/// <summary>
/// The time zone a merchant thinks in, from the workspace's default region (the markets LINE serves). Times are stored
/// in UTC and shown in this zone. None of these zones has daylight saving time, so a fixed offset is exact.
/// </summary>
public sealed record MerchantTimeZone(string Name, TimeSpan Offset)
{
    public static readonly MerchantTimeZone Utc = new("UTC", TimeSpan.Zero);

    public static MerchantTimeZone For(string? region) => region switch
    {
        "JP" => new("Asia/Tokyo", TimeSpan.FromHours(9)),
        "TW" => new("Asia/Taipei", TimeSpan.FromHours(8)),
        "TH" => new("Asia/Bangkok", TimeSpan.FromHours(7)),
        _ => Utc,
    };

    public DateTimeOffset Local(DateTimeOffset at) => at.ToOffset(Offset);
}
