using System.Security.Cryptography;
using Lumo.Sandbox;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;

namespace Lumo.Tests.Infrastructure;

/// <summary>A LINE channel and a Klaviyo account of this test's own in the shared sandbox.</summary>
public sealed class SandboxTenant
{
    private SandboxTenant(SandboxHost sandbox, LineChannel channel, KlaviyoAccountState klaviyo, string klaviyoKey)
    {
        Sandbox = sandbox;
        Channel = channel;
        Klaviyo = klaviyo;
        KlaviyoKey = klaviyoKey;
    }

    public SandboxHost Sandbox { get; }
    public LineChannel Channel { get; }
    public KlaviyoAccountState Klaviyo { get; }
    public string KlaviyoKey { get; }

    public static async Task<SandboxTenant> CreateAsync()
    {
        var sandbox = await TestEnvironment.SandboxAsync();
        var channel = sandbox.Line.AddChannel(NewChannel());
        var key = "pk_" + Hex(16);
        var klaviyo = sandbox.Klaviyo.AddAccount("K" + Hex(5).ToUpperInvariant(), key, "Test Store " + Hex(2));
        return new SandboxTenant(sandbox, channel, klaviyo, key);
    }

    /// <summary>Another Messaging API channel (a second LINE Official Account).</summary>
    public LineChannel AddChannel() => Sandbox.Line.AddChannel(NewChannel());

    public LineUser AddFriend(string displayName, bool blocked = false, LineChannel? channel = null)
    {
        var user = new LineUser("U" + Hex(16), displayName);
        Sandbox.Line.Users[user.UserId] = user;
        (channel ?? Channel).Friends[user.UserId] = new Friendship(user.UserId, blocked);
        return user;
    }

    private static LineChannel NewChannel()
    {
        var id = RandomNumberGenerator.GetInt32(1_000_000_000, int.MaxValue).ToString();
        return new LineChannel(id, Hex(16), "token-" + Hex(20), "U" + Hex(16), "@t" + id[^4..], "Test OA " + id[^4..]);
    }

    public static string Hex(int bytes) => Convert.ToHexString(RandomNumberGenerator.GetBytes(bytes)).ToLowerInvariant();
}
