using Lumo.Core.Http;

namespace Lumo.Core.Klaviyo;

/// <summary>
/// A Klaviyo API call failed. Klaviyo errors are JSON:API <c>{"errors":[{id,status,code,title,detail,source}]}</c>
/// (https://developers.klaviyo.com/en/docs/api_overview#errors); <see cref="VendorApiException.Code"/> is the first error's code.
/// </summary>
public sealed class KlaviyoApiException(int status, string? code, string message, TimeSpan? retryAfter = null, Exception? inner = null)
    : VendorApiException(status, code, message, retryAfter, inner);
