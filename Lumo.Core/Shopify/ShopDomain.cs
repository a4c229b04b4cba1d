using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Lumo.Core.Shopify;

/// <summary>
/// A store's permanent <c>{name}.myshopify.com</c> domain, the only form Shopify sends in installs, callbacks and
/// webhooks (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant#step-1-verify-the-installation-request).
/// Anything else is refused at the edge, so no other host can be put into the URL Lumo calls with a store's token.
/// </summary>
public readonly partial record struct ShopDomain
{
    private ShopDomain(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse([NotNullWhen(true)] string? text, out ShopDomain shop)
    {
        shop = default;
        if (text is null || text.Length > 255 || !Format().IsMatch(text)) return false;
        shop = new ShopDomain(text.ToLowerInvariant());
        return true;
    }

    public override string ToString() => Value;

    // \z, not $: $ also matches before a final newline.
    [GeneratedRegex(@"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com\z")]
    private static partial Regex Format();
}
