namespace Lumo.Functions.AdminPage;

/// <summary>The admin page's optional second gate: App Service Authentication (Entra ID) in front of it (infra/main.bicep, <c>adminPageEntraClientId</c>).</summary>
public sealed class AdminPageOptions
{
    public const string Section = "Lumo:AdminPage";

    /// <summary>
    /// The admin page (and its sign-in) answer only requests that App Service Authentication signed in with Entra ID
    /// (<see cref="EntraSignIn"/>); others are sent to <see cref="LoginPath"/>. The admin key is still needed after it,
    /// and a session belongs to the Entra user who opened it. Off by default.
    /// </summary>
    public bool RequireEntraSignIn { get; set; }

    /// <summary>Where App Service Authentication starts an Entra sign-in.</summary>
    public string LoginPath { get; set; } = "/.auth/login/aad";
}
