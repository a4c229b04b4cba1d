using Azure.Core;
using Azure.Identity;

namespace Lumo.Core;

/// <summary>The one way we obtain an Entra ID credential (managed identity in Azure, developer sign-in locally).</summary>
public static class AzureCredentials
{
    /// <summary>
    /// <paramref name="managedIdentityClientId"/> picks a user-assigned identity; when empty, the default (the
    /// <c>AZURE_CLIENT_ID</c> variable) stays in force, which an explicit null would override.
    /// </summary>
    public static TokenCredential Create(string? managedIdentityClientId)
    {
        var options = new DefaultAzureCredentialOptions();
        if (!string.IsNullOrEmpty(managedIdentityClientId))
            options.ManagedIdentityClientId = managedIdentityClientId;
        return new DefaultAzureCredential(options);
    }
}
