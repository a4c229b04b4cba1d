using System.Security.Cryptography;
using System.Text;
using Lumo.Core.Friends;
using Microsoft.AspNetCore.WebUtilities;

namespace Lumo.Core.IdLinkage;

/// <summary>
/// Per-profile linking tokens: what proves that a linking URL was made for the profile it names. A token is an HMAC
/// of (workspace, LINE account, Klaviyo profile id) under a key derived from the deployment's issued key, so it
/// needs no storage of ours, never changes for a profile, and cannot be computed by anyone who only knows an email
/// address or phone number. Lumo writes it on the profile (<c>LINE Linking Token</c>, suffixed per account like the
/// other properties) and the Klaviyo template inserts it with <c>person|lookup</c>.
/// </summary>
public sealed class LinkingTokens(ContactIndexKey deploymentKey)
{
    private const string Purpose = "linking-token";

    /// <summary>The profile's token in the account's current <paramref name="version"/> (0 until the first rotation).</summary>
    public async ValueTask<string> ForProfileAsync(string workspaceId, string accountId, string profileId, int version, CancellationToken cancellationToken)
    {
        var key = await deploymentKey.DerivedKeyAsync(Purpose, cancellationToken);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{workspaceId}\n{accountId}\n{profileId}" + (version > 0 ? $"\n{version}" : "")));
        return WebEncoders.Base64UrlEncode(mac, 0, 16); // 128 bits: short enough for a QR code, far beyond guessing
    }

    /// <summary>Whether <paramref name="presented"/> is the profile's token (compared in constant time).</summary>
    public async ValueTask<bool> IsValidAsync(string workspaceId, string accountId, string profileId, int version, string presented, CancellationToken cancellationToken)
    {
        var expected = await ForProfileAsync(workspaceId, accountId, profileId, version, cancellationToken);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(presented.Trim()));
    }
}
