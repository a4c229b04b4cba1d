namespace Lumo.Functions.Admin;

/// <summary>
/// The admin key checked in standalone mode. Under the Functions host, <c>authLevel: admin</c> in function.json
/// makes the host check its own master key before a request reaches us, so this key is not used there.
/// </summary>
public sealed class AdminKeyOptions
{
    public const string Section = "Lumo:Admin";
    public const int MinimumLength = 16;

    /// <summary>Sent like a Functions key: header <c>x-functions-key</c> or query <c>code</c>. No default.</summary>
    public string? Key { get; set; }
}
