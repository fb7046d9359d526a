// member-plugins: the Function App and what it needs, in one resource group.
//
//   Function App on Flex Consumption (Linux, Python 3.11), system-assigned identity
//   Storage account (AzureWebJobsStorage over the identity; the deployment package container)
//   Service Bus namespace + the registration queue (dead-lettering after maxDeliveryCount)
//   Log Analytics workspace + workspace-based Application Insights
//   Key Vault (RBAC) holding the secrets; app settings reference them (@Microsoft.KeyVault)
//
// App settings use the product's names (plugins/core/settings.py; nested groups use "__").
// Deploy:   az deployment group create -g <rg> -f infra/main.bicep -p infra/main.parameters.json
// Publish:  func azure functionapp publish <functionAppName>   (see docs/operations.md)

targetScope = 'resourceGroup'

@description('Short name used to derive every resource name (letters and digits, 3-11).')
@minLength(3)
@maxLength(11)
param baseName string

@description('Azure region; defaults to the resource group\'s.')
param location string = resourceGroup().location

@description('Dataverse environment URL, e.g. https://contoso.crm4.dynamics.com')
param dataverseUrl string

@description('Entra tenant id of the app registration that has an application user in Dataverse.')
param dataverseTenantId string

@description('Application (client) id of that app registration.')
param dataverseClientId string

@description('Its client secret; stored in Key Vault, never in app settings.')
@secure()
param dataverseClientSecret string

@description('The Service Bus queue Dataverse posts registration events to (REGISTRATION_QUEUE).')
param registrationQueueName string = 'mp-registration-events'

@description('Deliveries before Service Bus dead-letters a message the function keeps failing on.')
@minValue(1)
param maxDeliveryCount int = 10

@description('Upper bound on instances. Dataverse allows 52 concurrent requests per application user across all instances: each instance gets DATAVERSE__MAX_CONCURRENT_REQUESTS = min(16, 52 / maximumInstanceCount), so the fleet never exceeds 52 (3 instances x 16 = 48 by default).')
@minValue(1)
@maxValue(52)
param maximumInstanceCount int = 3

// Dataverse requests one instance may have in flight for the application user (all its
// functions share them); instances x this stays within the user's 52 concurrent requests.
var dataverseConcurrencyPerInstance = min(16, 52 / maximumInstanceCount)

@allowed([2048, 4096])
param instanceMemoryMB int = 2048

@description('FS password (REGISTRIES__FS__PASSWORD); empty = not used.')
@secure()
param fsPassword string = ''

@description('FS Gravitee API key (REGISTRIES__FS__GRAVITEE_API_KEY); empty = not used.')
@secure()
param fsGraviteeApiKey string = ''

@description('HMAC key of erased people\'s identity hashes (SYNC__TOMBSTONE_KEY, 32+ characters); empty = not used.')
@secure()
param tombstoneKey string = ''

@description('Self-service link keys as JSON, key id -> secret (SELFSERVICE__LINK_KEYS); empty = not used.')
@secure()
param selfServiceLinkKeys string = ''

@description('The key id in selfServiceLinkKeys that signs new links (SELFSERVICE__LINK_KEY_ID).')
param selfServiceLinkKeyId string = ''

@description('https URL of the self-service pages, e.g. https://alumni.example.org/api/mypage (SELFSERVICE__PUBLIC_BASE_URL); required with link keys: e-mailed links are built on it only.')
param selfServicePublicBaseUrl string = ''

@description('Further app settings (non-secret), e.g. {"REGISTRATION__STUDENT_REGISTRY": "ladok"}.')
param extraAppSettings object = {}

param tags object = {}

var suffix = uniqueString(resourceGroup().id, baseName)
var names = {
  workspace: 'log-${baseName}-${suffix}'
  insights: 'appi-${baseName}-${suffix}'
  storage: toLower(take('st${baseName}${suffix}', 24))
  serviceBus: 'sb-${baseName}-${suffix}'
  keyVault: take('kv-${baseName}-${suffix}', 24)
  plan: 'asp-${baseName}-${suffix}'
  functionApp: 'func-${baseName}-${suffix}'
}
// Blob container names must be lower case; baseName may not be.
var deploymentContainer = toLower('app-package-${take(names.functionApp, 32)}')

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

// Secrets that are set go to Key Vault; their app settings become Key Vault references.
var optionalSecrets = [
  { name: 'fs-password', value: fsPassword, setting: 'REGISTRIES__FS__PASSWORD' }
  { name: 'fs-gravitee-api-key', value: fsGraviteeApiKey, setting: 'REGISTRIES__FS__GRAVITEE_API_KEY' }
  { name: 'tombstone-key', value: tombstoneKey, setting: 'SYNC__TOMBSTONE_KEY' }
  { name: 'selfservice-link-keys', value: selfServiceLinkKeys, setting: 'SELFSERVICE__LINK_KEYS' }
]
var presentSecrets = filter(optionalSecrets, secret => !empty(secret.value))

// ------------------------------------------------------------------ monitoring

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: names.workspace
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
  }
}

// ---------------------------------------------------------------------- storage

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: names.storage
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
  properties: { publicAccess: 'None' }
}

// ------------------------------------------------------------------ Service Bus

resource serviceBus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: names.serviceBus
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard' }
  properties: {
    minimumTlsVersion: '1.2'
  }
}

resource registrationQueue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: serviceBus
  name: registrationQueueName
  properties: {
    lockDuration: 'PT1M'
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
    // Replays keep the original message id: duplicate detection would drop them.
    requiresDuplicateDetection: false
    requiresSession: false
  }
}

// Queue metrics (active and dead-lettered message counts) into Log Analytics, for the runbook.
resource serviceBusDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: serviceBus
  properties: {
    workspaceId: workspace.id
    metrics: [ { category: 'AllMetrics', enabled: true } ]
    logs: [ { categoryGroup: 'allLogs', enabled: true } ]
  }
}

// Dataverse's service endpoint sends with this key (member-plugins register --sas-key-name).
resource dataverseSendRule 'Microsoft.ServiceBus/namespaces/queues/authorizationRules@2022-10-01-preview' = {
  parent: registrationQueue
  name: 'dataverse-send'
  properties: { rights: [ 'Send' ] }
}

// The trigger listens and member-plugins deadletters replays (listen + send) with this one.
resource functionsRule 'Microsoft.ServiceBus/namespaces/authorizationRules@2022-10-01-preview' = {
  parent: serviceBus
  name: 'functions-listen-send'
  properties: { rights: [ 'Listen', 'Send' ] }
}

// -------------------------------------------------------------------- Key Vault

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: names.keyVault
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource dataverseSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'dataverse-client-secret'
  properties: { value: dataverseClientSecret }
}

resource serviceBusSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'servicebus-connection'
  properties: { value: functionsRule.listKeys().primaryConnectionString }
}

resource optionalSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for secret in presentSecrets: {
  parent: vault
  name: secret.name
  properties: { value: secret.value }
}]

// ----------------------------------------------------------------- Function App

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: names.plan
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

var baseSettings = {
  // Flex Consumption sets the runtime in functionAppConfig; FUNCTIONS_WORKER_RUNTIME and
  // FUNCTIONS_EXTENSION_VERSION must not be app settings there.
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
  ServiceBusConnection: '@Microsoft.KeyVault(SecretUri=${serviceBusSecret.properties.secretUri})'
  DATAVERSE__URL: dataverseUrl
  DATAVERSE__AUTH_METHOD: 'secret'
  DATAVERSE__TENANT_ID: dataverseTenantId
  DATAVERSE__CLIENT_ID: dataverseClientId
  DATAVERSE__CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${dataverseSecret.properties.secretUri})'
  DATAVERSE__MAX_CONCURRENT_REQUESTS: string(dataverseConcurrencyPerInstance)
  // Read by the trigger bindings (%REGISTRATION_QUEUE%, %REGISTRATION_SWEEP_SCHEDULE%).
  REGISTRATION_QUEUE: registrationQueue.name
  REGISTRATION_SWEEP_SCHEDULE: '0 */10 * * * *'
  SELFSERVICE__LINK_KEY_ID: selfServiceLinkKeyId
  SELFSERVICE__PUBLIC_BASE_URL: selfServicePublicBaseUrl
}
var secretSettings = toObject(
  presentSecrets,
  secret => secret.setting,
  secret => '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${secret.name})'
)
var appSettings = union(baseSettings, secretSettings, extraAppSettings)

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: names.functionApp
  location: location
  tags: union(tags, { 'azd-service-name': 'member-plugins' })
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: { name: 'python', version: '3.11' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [for setting in items(appSettings): {
        name: setting.key
        value: string(setting.value)
      }]
    }
  }
  dependsOn: [ packageContainer ]
}

// --------------------------------------------------------------- role assignments

var storageRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

resource storageAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in storageRoles: {
  name: guid(storage.id, functionApp.id, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}]

resource vaultAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, functionApp.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// ------------------------------------------------------------------------ outputs

output functionAppName string = functionApp.name
output functionAppUrl string = 'https://${functionApp.properties.defaultHostName}'
output webhookUrl string = 'https://${functionApp.properties.defaultHostName}/api/registration/events'
output serviceBusNamespace string = 'sb://${serviceBus.name}.servicebus.windows.net/'
output registrationQueue string = registrationQueue.name
output dataverseSendKeyName string = dataverseSendRule.name
output keyVaultName string = vault.name
output applicationInsightsName string = insights.name
output logAnalyticsWorkspaceId string = workspace.properties.customerId
