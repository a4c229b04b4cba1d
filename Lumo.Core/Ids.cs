using System.Text.RegularExpressions;

namespace Lumo.Core;

/// <summary>
/// The formats of the ids that enter from outside (routes, bodies, queue messages), checked once at the edge before
/// an id can become part of a table key: Lumo's own ids are lower-case hex, LINE user ids "U" and 32 hex digits,
/// Klaviyo's ids letters and digits. None of them can hold '/', '\', '#', '?', '~' or control characters.
/// </summary>
public static partial class Ids
{
    /// <summary>A new random id in Lumo's format (16 lower-case hex characters).</summary>
    public static string NewLumoId() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();

    /// <summary>Workspaces, LINE accounts, Auto Send Messages, segments, broadcasts and rich menus: 16 lower-case hex characters.</summary>
    public static bool IsLumoId(string? value) => value is not null && LumoId().IsMatch(value);

    /// <summary>QR codes: 12 lower-case hex characters.</summary>
    public static bool IsQrCodeId(string? value) => value is not null && QrCodeId().IsMatch(value);

    /// <summary>A send's id (<c>LineSend.IdOf</c>): 32 lower-case hex characters.</summary>
    public static bool IsSendId(string? value) => value is not null && SendId().IsMatch(value);

    /// <summary>LINE user ids (https://developers.line.biz/en/docs/messaging-api/getting-user-ids/).</summary>
    public static bool IsLineUserId(string? value) => value is not null && LineUserId().IsMatch(value);

    /// <summary>Klaviyo profile, segment, list and form ids: letters and digits (profiles are 26-character ULIDs).</summary>
    public static bool IsKlaviyoId(string? value) => value is not null && KlaviyoId().IsMatch(value);

    /// <summary>Sync Data run ids (<see cref="SyncData.SyncRunHistory.NewRunId"/>): 19 digits, a dash, 8 lower-case hexadecimal characters.</summary>
    public static bool IsSyncRunId(string? value) => value is not null && SyncRunId().IsMatch(value);

    [GeneratedRegex("^[0-9a-f]{16}$")]
    private static partial Regex LumoId();

    [GeneratedRegex("^[0-9]{19}-[0-9a-f]{8}$")]
    private static partial Regex SyncRunId();

    [GeneratedRegex("^[0-9a-f]{12}$")]
    private static partial Regex QrCodeId();

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex SendId();

    [GeneratedRegex("^U[0-9a-f]{32}$")]
    private static partial Regex LineUserId();

    [GeneratedRegex("^[0-9A-Za-z]{1,64}$")]
    private static partial Regex KlaviyoId();
}
