// Least-privilege role assignments for the app's user-assigned identity, each
// scoped to the single resource it needs (never the resource group):
//   storage account     Storage Blob Data Owner        host keys, leases, deployment package, raw payloads
//                       Storage Queue Data Contributor queue triggers, delivery queues
//                       Storage Table Data Contributor profiles, events, delivery log
//     The storage account is the one AzureWebJobsStorage names, and Durable Functions keeps
//     its task hub there (Azure Storage backend), signing in with the same identity, so the
//     journeys need all three as well: blobs for its partition leases and large messages,
//     queues for its control and work-item queues, tables for <hub>Instances and <hub>History.
//   App Insights        Monitoring Metrics Publisher   telemetry with local auth off
//   Key Vault           Key Vault Secrets User         Key Vault references in app settings
//   Communication Svcs  Communication and Email Service Owner
//                       the built-in role that lets an Entra identity send email;
//                       there is no narrower built-in send-only role.
//   Service Bus         Azure Service Bus Data Sender    deliveries queued, scheduled, replayed
//   (servicebus only)   Azure Service Bus Data Receiver  the delivery triggers, dead-letter replay

metadata description = 'Role assignments for the function app identity'

@description('Required. Name of the user-assigned identity that receives the roles (in this resource group).')
param identityName string

@description('Required. Name of the storage account.')
param storageAccountName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Required. Name of the Key Vault.')
param keyVaultName string

@description('Required. Name of the Communication Services resource.')
param communicationServiceName string

@description('Optional. Name of the Service Bus namespace that carries deliveries; empty when Storage queues do.')
param serviceBusNamespaceName string = ''

// Built-in role definition IDs (the same in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  communicationAndEmailServiceOwner: '09976791-48a7-449e-bb21-39d1a415f350'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
}

var serviceBusRoles = empty(serviceBusNamespaceName)
  ? []
  : [
      roles.serviceBusDataSender
      roles.serviceBusDataReceiver
    ]

var storageRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

// Names, not runtime ids, come in as parameters so What-If can predict every
// assignment; the principal id is read from the identity itself.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

var principalId = identity.properties.principalId
var principalType = 'ServicePrincipal'

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource communicationService 'Microsoft.Communication/communicationServices@2025-05-01' existing = {
  name: communicationServiceName
}

resource serviceBusNamespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = if (!empty(serviceBusNamespaceName)) {
  name: serviceBusNamespaceName
}

resource storageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in storageRoles: {
    name: guid(storageAccount.id, identity.id, roleId)
    scope: storageAccount
    properties: {
      principalId: principalId
      principalType: principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    }
  }
]

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, identity.id, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

resource emailSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communicationService.id, identity.id, roles.communicationAndEmailServiceOwner)
  scope: communicationService
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roles.communicationAndEmailServiceOwner
    )
  }
}

resource serviceBusAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in serviceBusRoles: {
    name: guid(serviceBusNamespace.id, identity.id, roleId)
    scope: serviceBusNamespace
    properties: {
      principalId: principalId
      principalType: principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    }
  }
]

@description('The role definition IDs granted, by purpose.')
output roleDefinitionIds object = roles
