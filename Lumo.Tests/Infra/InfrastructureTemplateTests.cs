using System.Text.Json.Nodes;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Infra;

/// <summary>infra/main.bicep compiles, lints clean, and grants the app identity-only, least-privilege access.</summary>
public sealed class InfrastructureTemplateTests
{
    private static readonly Lazy<Task<JsonObject>> Template = new(async () =>
    {
        var (exit, output) = await Repository.RunAsync(Repository.BicepPath, "build infra/main.bicep --stdout", TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, output);
        return JsonNode.Parse(output[output.IndexOf('{')..])!.AsObject();
    });

    // Compiled templates list resources as an array, or as an object keyed by symbolic name (language version 2.0).
    private static async Task<List<JsonObject>> Resources() => (await Template.Value)["resources"] switch
    {
        JsonArray array => array.Select(r => r!.AsObject()).ToList(),
        JsonObject byName => byName.Select(r => r.Value!.AsObject()).ToList(),
        _ => [],
    };

    private static async Task<JsonObject> Resource(string type) => (await Resources()).Single(r => r["type"]!.GetValue<string>() == type);

    [Fact]
    public async Task LintsWithoutErrors()
    {
        var (exit, output) = await Repository.RunAsync(Repository.BicepPath, "lint infra/main.bicep", TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, output);
        Assert.DoesNotContain("Error", output);
    }

    [Fact]
    public async Task PutsEntraSignInBeforeTheAdminPageOnlyWhenAnAppRegistrationIsGiven()
    {
        var auth = await Resource("Microsoft.Web/sites/config");
        Assert.Contains("'authsettingsV2'", auth["name"]!.ToString());
        Assert.Contains("adminPageEntraClientId", auth["condition"]!.ToString());
        // Webhooks, linking pages and the key-protected admin API must keep answering without an Entra sign-in.
        var validation = auth["properties"]!["globalValidation"]!;
        Assert.False(validation["requireAuthentication"]!.GetValue<bool>());
        Assert.Equal("AllowAnonymous", validation["unauthenticatedClientAction"]!.GetValue<string>());
        var policy = auth["properties"]!["identityProviders"]!["azureActiveDirectory"]!["validation"]!["defaultAuthorizationPolicy"]!;
        Assert.Contains("adminPageEntraClientId", policy["allowedApplications"]!.ToJsonString()); // no other app's tokens
        var settings = (await Resource("Microsoft.Web/sites"))["properties"]!["siteConfig"]!["appSettings"]!.AsArray()
            .ToDictionary(s => s!["name"]!.GetValue<string>(), s => s!["value"]!.ToString());
        Assert.Contains("adminPageEntraClientId", settings["Lumo__AdminPage__RequireEntraSignIn"]);
    }

    [Fact]
    public async Task ReadsTheKlaviyoAppSecretFromTheVaultWithTheAppsIdentity()
    {
        var site = await Resource("Microsoft.Web/sites");
        Assert.Contains("identity", site["properties"]!["keyVaultReferenceIdentity"]!.ToString());
        var settings = site["properties"]!["siteConfig"]!["appSettings"]!.AsArray().ToDictionary(s => s!["name"]!.GetValue<string>(), s => s!["value"]!.ToString());
        Assert.Contains("klaviyoOAuthClientId", settings["Lumo__Klaviyo__OAuthClientId"]);
        Assert.Contains("@Microsoft.KeyVault(VaultName=", settings["Lumo__Klaviyo__OAuthClientSecret"]);
        Assert.Contains("SecretName=klaviyo-oauth-client-secret", settings["Lumo__Klaviyo__OAuthClientSecret"]);
        Assert.Contains("shopifyClientId", settings["Lumo__Shopify__ClientId"]);
        Assert.Contains("SecretName=shopify-client-secret", settings["Lumo__Shopify__ClientSecret"]);
    }

    [Fact]
    public async Task TurnsOffSharedKeyAccessOnStorage()
    {
        var storage = await Resource("Microsoft.Storage/storageAccounts");
        Assert.False(storage["properties"]!["allowSharedKeyAccess"]!.GetValue<bool>());
    }

    [Fact]
    public async Task RunsTheAppOnFlexConsumptionAsDotnetIsolatedWithAUserAssignedIdentity()
    {
        var app = await Resource("Microsoft.Web/sites");
        Assert.Equal("UserAssigned", app["identity"]!["type"]!.GetValue<string>());
        var runtime = app["properties"]!["functionAppConfig"]!["runtime"]!;
        Assert.Equal("dotnet-isolated", runtime["name"]!.GetValue<string>());
        Assert.Equal("10.0", runtime["version"]!.GetValue<string>());
        Assert.Equal("FlexConsumption", (await Resource("Microsoft.Web/serverfarms"))["sku"]!["tier"]!.GetValue<string>());
        Assert.NotNull(await Resource("Microsoft.ManagedIdentity/userAssignedIdentities"));
    }

    [Fact]
    public async Task ConnectsToStorageByIdentityNotByConnectionString()
    {
        var settings = (await Resource("Microsoft.Web/sites"))["properties"]!["siteConfig"]!["appSettings"]!.AsArray()
            .ToDictionary(s => s!["name"]!.GetValue<string>(), s => s!["value"]!.ToJsonString());
        Assert.Contains("AzureWebJobsStorage__accountName", settings.Keys);
        Assert.Equal("\"managedidentity\"", settings["AzureWebJobsStorage__credential"]);
        Assert.Contains("AzureWebJobsStorage__clientId", settings.Keys);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.Contains("Lumo__KeyVault__VaultUri", settings.Keys);
        Assert.Contains("Lumo__Line__ApiBaseUrl", settings.Keys);
        Assert.Contains("Lumo__Klaviyo__ApiBaseUrl", settings.Keys);
    }

    [Fact]
    public async Task GrantsTheIdentityExactlyTheRolesItNeeds()
    {
        // roleDefinitionId compiles to an expression naming the template variable `roles`: resolve it.
        var roleIds = (await Template.Value)["variables"]!["roles"]!.AsObject();
        var roles = (await Resources()).Where(r => r["type"]!.GetValue<string>() == "Microsoft.Authorization/roleAssignments")
            .Select(r => System.Text.RegularExpressions.Regex.Match(r["properties"]!["roleDefinitionId"]!.GetValue<string>(), @"variables\('roles'\)\.(\w+)").Groups[1].Value)
            .Select(name => roleIds[name]!.GetValue<string>()).Order().ToList();

        Assert.Equal(new[]
        {
            "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", // Storage Table Data Contributor
            "3913510d-42f4-4e42-8a64-420c390055eb", // Monitoring Metrics Publisher
            "974c5e8b-45b9-4653-ba55-5f855dd0fb88", // Storage Queue Data Contributor
            "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", // Storage Blob Data Owner
            "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", // Key Vault Secrets Officer
        }, roles);
    }

    [Fact]
    public async Task KeepsKeyVaultAndApplicationInsightsOnEntraIdOnly()
    {
        Assert.True((await Resource("Microsoft.KeyVault/vaults"))["properties"]!["enableRbacAuthorization"]!.GetValue<bool>());
        Assert.True((await Resource("Microsoft.Insights/components"))["properties"]!["DisableLocalAuth"]!.GetValue<bool>());
    }

    [Fact]
    public async Task OutputsTheWebhookBaseUrlAndTheVaultName()
    {
        var outputs = (await Template.Value)["outputs"]!.AsObject();
        Assert.Contains("flowWebhookBaseUrl", outputs.Select(o => o.Key));
        Assert.Contains("keyVaultName", outputs.Select(o => o.Key));
    }
}
