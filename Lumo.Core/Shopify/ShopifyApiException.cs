using Lumo.Core.Http;

namespace Lumo.Core.Shopify;

/// <summary>
/// A Shopify call failed: an HTTP error (401 when the app was uninstalled or its token revoked), an OAuth error
/// (<c>invalid_request</c> for a used code), or a GraphQL error, which Shopify answers with HTTP 200 and
/// <c>errors[].extensions.code</c> (<c>THROTTLED</c>, <c>MAX_COST_EXCEEDED</c>, <c>undefinedField</c>, …).
/// </summary>
public sealed class ShopifyApiException(int status, string? code, string message, TimeSpan? retryAfter = null, Exception? inner = null)
    : VendorApiException(status, code, message, retryAfter, inner);
