using Microsoft.Extensions.Options;

namespace Lumo.Functions.AdminPage;

/// <summary>
/// The admin page's optional second gate: who App Service Authentication signed in with Entra ID
/// (<see cref="AdminPageOptions.RequireEntraSignIn"/>). The platform sets the <c>X-MS-CLIENT-PRINCIPAL-*</c> headers and
/// removes any a client sends, but only while App Service Authentication is on (it then sets <c>WEBSITE_AUTH_ENABLED</c>):
/// with it off the headers are anyone's, so the gate then refuses everything rather than believe them.
/// </summary>
public sealed class EntraSignIn(IOptions<AdminPageOptions> options, IConfiguration configuration)
{
    public const string NameHeader = "X-MS-CLIENT-PRINCIPAL-NAME";
    public const string ObjectIdHeader = "X-MS-CLIENT-PRINCIPAL-ID";
    public const string ProviderHeader = "X-MS-CLIENT-PRINCIPAL-IDP";

    public bool Required => options.Value.RequireEntraSignIn;

    public string LoginPath => options.Value.LoginPath;

    /// <summary>True when the platform vouches for the principal headers (App Service Authentication is on).</summary>
    public bool PlatformVouches => string.Equals(configuration["WEBSITE_AUTH_ENABLED"], "True", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The Entra user App Service Authentication signed in ("name (object id)"), or null: none, another identity
    /// provider, the gate off, or the platform not vouching for the headers.
    /// </summary>
    public string? UserOf(HttpRequest request) =>
        Required && PlatformVouches && request.Headers[ProviderHeader] == "aad" && request.Headers[ObjectIdHeader].FirstOrDefault() is { Length: > 0 } objectId
            ? $"{request.Headers[NameHeader].FirstOrDefault()} ({objectId})"
            : null;
}
