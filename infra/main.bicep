// Nudge on Azure: one `azd up` creates a resource group with
//   - a Flex Consumption function app that runs Nudge.App as a .NET 10 isolated worker,
//     its journeys as Durable Functions orchestrations in the storage account,
//   - a storage account (blob, queue, table) with shared-key access off,
//   - Log Analytics + Application Insights with local auth off,
//   - Communication Services + Email Communication Service + Azure-managed domain,
//   - a Key Vault for third-party secrets, read through Key Vault references,
//   - one user-assigned managed identity holding least-privilege roles,
//   - with deliveryTransport = 'servicebus': a Service Bus namespace (Standard) with one
//     delivery queue per channel, in place of the Storage delivery queues.
// No connection strings or keys end up in app settings. See docs/deployment.md.

targetScope = 'subscription'

// ---------------------------------------------------------------- parameters

@minLength(1)
@maxLength(64)
@description('Name of the azd environment. Seeds the resource token and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region for every regional resource, for example koreacentral. It must offer the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Where Communication Services and email keep data at rest (ACS data location), for example Korea, Japan, Asia Pacific, Europe, United States.')
param communicationDataLocation string = 'Korea'

@description('IANA time zone the journeys use when a shop sets none (Nudge__DefaultTimeZone).')
param defaultTimeZone string = 'Asia/Seoul'

// Durable Functions takes 3-45 letters and digits starting with a letter. Bicep has no
// pattern check: it checks the length, scripts/check-infra.sh the defaults' characters.
@minLength(3)
@maxLength(45)
@description('Durable Functions task hub the journeys run in (NUDGE_TASK_HUB, read by host.json): 3-45 letters and digits, starting with a letter. Its tables (<hub>Instances, <hub>History) and queues live in the app\'s storage account; a new name starts with no journeys.')
param taskHubName string = 'NudgeJourneys'

@secure()
@description('Shopify webhook signing secret (the app\'s client secret). Stored in Key Vault as shopify-webhook-secret.')
param shopifyWebhookSecret string

@secure()
@description('While the Shopify client secret is rotated: the secret being replaced, accepted beside the new one until Shopify revokes it (then set it empty again). Stored in Key Vault as shopify-previous-webhook-secret.')
param shopifyPreviousWebhookSecret string = ''

@secure()
@description('API key marketers send to the Nudge HTTP endpoints. Stored in Key Vault as marketer-api-key.')
@metadata({
  azd: {
    type: 'generate'
    config: {
      length: 48
      noSpecial: true
    }
  }
})
param marketerApiKey string

@description('Sender name every ad message carries after (광고), as the law requires: the shop\'s name (Nudge__Channels__SenderName).')
param senderName string

@description('The free opt-out number ad messages end with, e.g. 080-123-4567 (Nudge__Channels__OptOutNumber).')
param optOutNumber string

@description('Public base URL for unsubscribe and click links, e.g. a custom domain. Empty: the function app\'s own https host name.')
param publicBaseUrl string = ''

@secure()
@description('Key that signs unsubscribe and click-tracking links. Stored in Key Vault as link-secret.')
@metadata({
  azd: {
    type: 'generate'
    config: {
      length: 48
      noSpecial: true
    }
  }
})
param linkSecret string

@secure()
@description('Key provider callbacks (ACS Event Grid, Solapi) must present. Stored in Key Vault as callback-key.')
@metadata({
  azd: {
    type: 'generate'
    config: {
      length: 48
      noSpecial: true
    }
  }
})
param callbackKey string

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Most instances the app may scale out to. 40 is the lowest maximum Flex Consumption accepts.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Redundancy of the storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSkuName string = 'Standard_LRS'

@description('What carries channel deliveries (Nudge__Delivery__Transport): storage = Storage queues in the app\'s account (the default, the local run\'s transport); servicebus = a Standard Service Bus namespace, one queue per channel, duplicate detection on the delivery id, scheduled messages, dead-letter queues. The other transport\'s sender functions are disabled. With servicebus, build the app with NUDGE_DELIVERY_TRANSPORT=servicebus as well (docs/deployment.md).')
@allowed([
  'storage'
  'servicebus'
])
param deliveryTransport string = 'storage'

@description('Turn on Key Vault purge protection (irreversible; keeps the vault name taken after deletion).')
param keyVaultPurgeProtection bool = false

@description('Days logs stay in Log Analytics.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

// Every resource name can be overridden; empty means "derive it".
@description('Optional resource group name. Default: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Optional user-assigned identity name.')
param identityName string = ''

@description('Optional storage account name (3-24 lowercase letters and digits).')
param storageAccountName string = ''

@description('Optional Log Analytics workspace name.')
param logAnalyticsName string = ''

@description('Optional Application Insights name.')
param applicationInsightsName string = ''

@description('Optional Key Vault name (3-24 characters).')
param keyVaultName string = ''

@description('Optional hosting plan name.')
param appServicePlanName string = ''

@description('Optional function app name (becomes <name>.azurewebsites.net).')
param functionAppName string = ''

@description('Optional Communication Services name.')
param communicationServiceName string = ''

@description('Optional Email Communication Service name.')
param emailServiceName string = ''

@description('Optional Service Bus namespace name (deliveryTransport servicebus; 6-50 letters, digits and hyphens).')
param serviceBusNamespaceName string = ''

// ---------------------------------------------------------------- names

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

var names = {
  resourceGroup: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  identity: !empty(identityName) ? identityName : '${abbrs.managedIdentityUserAssignedIdentities}nudge-${resourceToken}'
  storage: !empty(storageAccountName) ? storageAccountName : '${abbrs.storageStorageAccounts}${resourceToken}'
  logAnalytics: !empty(logAnalyticsName) ? logAnalyticsName : '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
  applicationInsights: !empty(applicationInsightsName)
    ? applicationInsightsName
    : '${abbrs.insightsComponents}${resourceToken}'
  keyVault: !empty(keyVaultName) ? keyVaultName : '${abbrs.keyVaultVaults}${resourceToken}'
  plan: !empty(appServicePlanName) ? appServicePlanName : '${abbrs.webServerFarms}${resourceToken}'
  functionApp: !empty(functionAppName) ? functionAppName : '${abbrs.webSitesFunctions}nudge-${resourceToken}'
  communication: !empty(communicationServiceName)
    ? communicationServiceName
    : '${abbrs.communicationCommunicationServices}${resourceToken}'
  email: !empty(emailServiceName) ? emailServiceName : '${abbrs.communicationEmailServices}${resourceToken}'
  serviceBus: !empty(serviceBusNamespaceName) ? serviceBusNamespaceName : '${abbrs.serviceBusNamespaces}nudge-${resourceToken}'
}

// Channel delivery: one queue per channel on either transport (the queue names are the app's
// wire contract), and each transport's sender functions ([Function] names in Nudge.App).
var useServiceBus = deliveryTransport == 'servicebus'
var deliveryChannels = [
  'email'
  'sms'
  'kakao'
]
var storageQueueSenders = [
  'EmailSender'
  'SmsSender'
  'KakaoSender'
]
var serviceBusSenders = [
  'EmailSenderServiceBus'
  'SmsSenderServiceBus'
  'KakaoSenderServiceBus'
]

// Flex Consumption pulls the app package from this blob container.
var deploymentContainerName = toLower('app-package-${take(names.functionApp, 32)}-${take(resourceToken, 7)}')

// Key Vault secret names (the app never sees these; it reads the settings).
var secretNames = {
  shopifyWebhookSecret: 'shopify-webhook-secret'
  shopifyPreviousWebhookSecret: 'shopify-previous-webhook-secret'
  marketerApiKey: 'marketer-api-key'
  linkSecret: 'link-secret'
  callbackKey: 'callback-key'
}

// ---------------------------------------------------------------- resources

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: names.storage
    location: location
    tags: tags
    skuName: storageSkuName
    blobContainerNames: [
      deploymentContainerName
    ]
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module keyVault 'app/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: names.keyVault
    location: location
    tags: tags
    enablePurgeProtection: keyVaultPurgeProtection
    secrets: union(
      {
        '${secretNames.shopifyWebhookSecret}': shopifyWebhookSecret
        '${secretNames.marketerApiKey}': marketerApiKey
        '${secretNames.linkSecret}': linkSecret
        '${secretNames.callbackKey}': callbackKey
      },
      empty(shopifyPreviousWebhookSecret) ? {} : { '${secretNames.shopifyPreviousWebhookSecret}': shopifyPreviousWebhookSecret }
    )
  }
}

module communication 'app/communication.bicep' = {
  name: 'communication'
  scope: rg
  params: {
    communicationServiceName: names.communication
    emailServiceName: names.email
    dataLocation: communicationDataLocation
    tags: tags
  }
}

module serviceBus 'app/service-bus.bicep' = if (useServiceBus) {
  name: 'service-bus'
  scope: rg
  params: {
    name: names.serviceBus
    location: location
    tags: tags
    queueNames: [for channel in deliveryChannels: 'delivery-${channel}']
  }
}

module roleAssignments 'app/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: rg
  params: {
    identityName: names.identity
    storageAccountName: names.storage
    applicationInsightsName: names.applicationInsights
    keyVaultName: names.keyVault
    communicationServiceName: names.communication
    serviceBusNamespaceName: useServiceBus ? names.serviceBus : ''
  }
  // Passed by name (known before deployment), so the order is explicit.
  dependsOn: [
    identity
    storage
    monitoring
    keyVault
    communication
    serviceBus
  ]
}

module plan 'app/hosting-plan.bicep' = {
  name: 'hosting-plan'
  scope: rg
  params: {
    name: names.plan
    location: location
    tags: tags
  }
}

module functionApp 'app/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: names.functionApp
    location: location
    // azure.yaml service `app`; azd deploy finds the app by this tag.
    tags: union(tags, { 'azd-service-name': 'app' })
    serverFarmResourceId: plan.outputs.resourceId
    managedIdentities: {
      userAssignedResourceIds: [
        identity.outputs.resourceId
      ]
    }
    keyVaultAccessIdentityResourceId: identity.outputs.resourceId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.outputs.primaryBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.outputs.resourceId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      // The isolated worker (Microsoft.Azure.Functions.Worker) on .NET 10. On Flex
      // Consumption this replaces the FUNCTIONS_WORKER_RUNTIME setting.
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    // Identity-based settings only. The same names work against Azurite
    // locally, where AzureWebJobsStorage is a connection string instead.
    // AzureWebJobsStorage serves the host, the queue triggers, Durable Functions'
    // task hub and Nudge.Storage alike.
    appSettingsKeyValuePairs: {
      AzureWebJobsStorage__blobServiceUri: storage.outputs.serviceEndpoints.blob
      AzureWebJobsStorage__queueServiceUri: storage.outputs.serviceEndpoints.queue
      AzureWebJobsStorage__tableServiceUri: storage.outputs.serviceEndpoints.table
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identity.outputs.clientId
      APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
      Shopify__WebhookSecret: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.secretUris[secretNames.shopifyWebhookSecret]})'
      Nudge__MarketerApiKey: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.secretUris[secretNames.marketerApiKey]})'
      Nudge__DefaultTimeZone: defaultTimeZone
      // host.json: extensions.durableTask.hubName = %NUDGE_TASK_HUB%.
      NUDGE_TASK_HUB: taskHubName
      Nudge__Email__AcsEndpoint: communication.outputs.endpoint
      Nudge__Email__SenderAddress: 'DoNotReply@${communication.outputs.senderDomain}'
      Nudge__Channels__SenderName: senderName
      Nudge__Channels__OptOutNumber: optOutNumber
      Nudge__Channels__LinkSecret: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.secretUris[secretNames.linkSecret]})'
      Nudge__Channels__CallbackKey: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.secretUris[secretNames.callbackKey]})'
      // Empty: the app builds its links on its own host name (WEBSITE_HOSTNAME, set by the platform).
      Nudge__Channels__PublicBaseUrl: publicBaseUrl
      // Empty unless a rotation of the Shopify client secret is under way: then the old secret, accepted beside the new one.
      Shopify__PreviousWebhookSecret: empty(shopifyPreviousWebhookSecret) ? '' : '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.secretUris[?secretNames.shopifyPreviousWebhookSecret]})'
      Nudge__Delivery__Transport: deliveryTransport
    }
    // The transport's own settings, and the other transport's senders disabled, so one transport consumes:
    // servicebus: the namespace (identity-based, as AzureWebJobsStorage) and the Storage queue senders off;
    // storage: the Service Bus senders off (absent from a build without them, where the settings do nothing).
    transportAppSettings: useServiceBus
      ? union(
          {
            ServiceBusConnection__fullyQualifiedNamespace: serviceBus.?outputs.fullyQualifiedNamespace ?? ''
            ServiceBusConnection__credential: 'managedidentity'
            ServiceBusConnection__clientId: identity.outputs.clientId
          },
          toObject(storageQueueSenders, sender => 'AzureWebJobs.${sender}.Disabled', sender => 'true')
        )
      : toObject(serviceBusSenders, sender => 'AzureWebJobs.${sender}.Disabled', sender => 'true')
  }
  dependsOn: [
    // Key Vault references and identity-based storage need the roles in place
    // before the host first starts.
    roleAssignments
  ]
}

// ---------------------------------------------------------------- outputs
// azd stores these in .azure/<env>/.env; scripts/postprovision.sh turns them
// into a local settings file.

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name

output SERVICE_APP_NAME string = functionApp.outputs.name
output SERVICE_APP_URI string = 'https://${functionApp.outputs.defaultHostname}'
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name

output AZURE_MANAGED_IDENTITY_NAME string = identity.outputs.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId

output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.serviceEndpoints.blob
output AZURE_STORAGE_QUEUE_ENDPOINT string = storage.outputs.serviceEndpoints.queue
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.serviceEndpoints.table

output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.uri

output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.name
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString

output AZURE_COMMUNICATION_SERVICE_NAME string = communication.outputs.name
output NUDGE_EMAIL_ACS_ENDPOINT string = communication.outputs.endpoint
output NUDGE_EMAIL_SENDER_ADDRESS string = 'DoNotReply@${communication.outputs.senderDomain}'
output NUDGE_DEFAULT_TIME_ZONE string = defaultTimeZone
output NUDGE_TASK_HUB string = taskHubName
output NUDGE_DELIVERY_TRANSPORT string = deliveryTransport
output AZURE_SERVICE_BUS_NAMESPACE string = useServiceBus ? names.serviceBus : ''
