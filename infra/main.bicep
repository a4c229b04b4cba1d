// Lumo for Klaviyo on Azure: a Flex Consumption function app running our ASP.NET Core server as a custom handler,
// with identity-only access to Storage (tables, queues, host blobs), Key Vault and Application Insights.
// Plain resources only (no registry modules) so that `bicep build` works offline.

targetScope = 'resourceGroup'

@description('Short prefix for resource names (letters and digits).')
@minLength(3)
@maxLength(11)
param namePrefix string = 'lumo'

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('Memory per function app instance (MB), a Flex Consumption size.')
@allowed([ 512, 2048, 4096 ])
param instanceMemoryMB int = 2048

@description('Upper bound of instances Flex Consumption may scale out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('LINE Messaging API base URL (change only for a test double).')
param lineApiBaseUrl string = 'https://api.line.me'

@description('Klaviyo API base URL (change only for a test double).')
param klaviyoApiBaseUrl string = 'https://a.klaviyo.com'

@description('Optional: the client ID of the Lumo Klaviyo OAuth app, so that workspaces connect Klaviyo as an app (README, "Connect Klaviyo as an app"). Put its client secret into the Key Vault as klaviyo-oauth-client-secret; the app reads it through a Key Vault reference. Empty: private API keys only.')
param klaviyoOAuthClientId string = ''

@description('Optional: the client ID of the Lumo Shopify app, so that workspaces install it on their store for product feeds (README, "Product feeds from Shopify"). Put its client secret into the Key Vault as shopify-client-secret. Empty: product feeds off.')
param shopifyClientId string = ''

@description('Optional second gate for the admin page: the application (client) ID of an Entra ID app registration. When set, App Service Authentication signs users in with Entra ID, and the admin page (/api/console) opens only after that sign-in (then the admin key, as always). Empty: off.')
param adminPageEntraClientId string = ''

@description('The Entra ID tenant of that app registration.')
param adminPageEntraTenantId string = tenant().tenantId

@description('Optional: the object ID of the Entra security group whose members may pass the gate (otherwise every user the app registration admits: set "Assignment required" on its enterprise application to choose them there).')
param adminPageEntraGroupId string = ''

var suffix = uniqueString(resourceGroup().id, namePrefix)
var names = {
  identity: '${namePrefix}-id-${suffix}'
  storage: toLower(take('${namePrefix}st${suffix}', 24))
  vault: take('${namePrefix}-kv-${suffix}', 24)
  logs: '${namePrefix}-logs-${suffix}'
  insights: '${namePrefix}-ai-${suffix}'
  plan: '${namePrefix}-plan-${suffix}'
  app: '${namePrefix}-func-${suffix}'
  deploymentContainer: 'app-package'
}

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: names.storage
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false // identity only: no account keys, no connection strings
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: names.deploymentContainer
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: names.logs
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true // telemetry is accepted with Entra ID tokens only
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: names.vault
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 30
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: names.plan
  location: location
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: names.app
  location: location
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references in app settings (the Klaviyo app's client secret) are read with the app's identity.
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${names.deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // The host runs `dotnet Lumo.Functions.dll` as a custom handler (host.json customHandler).
      runtime: { name: 'dotnet-isolated', version: '10.0' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [
        // Identity-based host storage: tables, queues and the host's blobs through the managed identity.
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
        { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
        { name: 'Lumo__KeyVault__VaultUri', value: vault.properties.vaultUri }
        { name: 'Lumo__KeyVault__ClientId', value: identity.properties.clientId }
        { name: 'Lumo__Line__ApiBaseUrl', value: lineApiBaseUrl }
        // Each instance keeps to its share of LINE's 2,000 pushes/s per channel, so all of them together never exceed it.
        { name: 'Lumo__Line__PushInstances', value: string(maximumInstanceCount) }
        { name: 'Lumo__Klaviyo__ApiBaseUrl', value: klaviyoApiBaseUrl }
        { name: 'Lumo__AdminPage__RequireEntraSignIn', value: string(!empty(adminPageEntraClientId)) }
        // The Klaviyo OAuth app, when a client id is given (empty: private keys only); its secret from the vault.
        { name: 'Lumo__Klaviyo__OAuthClientId', value: klaviyoOAuthClientId }
        { name: 'Lumo__Klaviyo__OAuthClientSecret', value: empty(klaviyoOAuthClientId) ? '' : '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=klaviyo-oauth-client-secret)' }
        // The Shopify app, when a client id is given (empty: product feeds off); its secret, which also signs webhooks, from the vault.
        { name: 'Lumo__Shopify__ClientId', value: shopifyClientId }
        { name: 'Lumo__Shopify__ClientSecret', value: empty(shopifyClientId) ? '' : '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=shopify-client-secret)' }
      ]
    }
  }
  dependsOn: [ deploymentContainer ]
}

// App Service Authentication with Entra ID, as a second gate for the admin page only. Unauthenticated requests are
// let through (LINE and Klaviyo webhooks, linking pages, tracking and the key-protected admin API must keep working
// without an Entra sign-in); the platform signs users in at /.auth/login/aad and then adds X-MS-CLIENT-PRINCIPAL-NAME
// (removing any a client sends), which the admin page requires when Lumo__AdminPage__RequireEntraSignIn is true.
// Without a client secret the sign-in uses OpenID Connect's ID token flow: turn on "ID tokens" in the app registration
// and add https://<app>.azurewebsites.net/.auth/login/aad/callback as its web redirect URI.
resource adminPageEntraSignIn 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(adminPageEntraClientId)) {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: adminPageEntraClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${adminPageEntraTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [ adminPageEntraClientId ]
          // Only sign-ins to this app registration, and only the chosen group's members when one is given.
          defaultAuthorizationPolicy: {
            allowedApplications: [ adminPageEntraClientId ]
            allowedPrincipals: empty(adminPageEntraGroupId) ? {} : { groups: [ adminPageEntraGroupId ] }
          }
        }
      }
    }
    login: {
      tokenStore: { enabled: false }
    }
  }
}

// Least privilege for the app's identity: blob owner (host leases and the deployment package), queue and table
// data contributor (work queues, state), secrets officer on the vault (the admin API writes credentials), and
// metrics publisher on Application Insights (Entra-authenticated telemetry).
resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
  }
}

resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
  }
}

resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
  }
}

resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

@description('Name of the function app (for deployment commands).')
output functionAppName string = app.name

@description('Base URL of the app\'s HTTP functions; the Klaviyo Flow webhook and LINE webhook URLs start here.')
output flowWebhookBaseUrl string = 'https://${app.properties.defaultHostName}/api'

@description('Key Vault holding LINE and Klaviyo credentials.')
output keyVaultName string = vault.name

@description('Client id of the app\'s managed identity.')
output managedIdentityClientId string = identity.properties.clientId

@description('Storage account for the host, tables and queues.')
output storageAccountName string = storage.name
