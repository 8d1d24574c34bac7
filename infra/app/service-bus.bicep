// Service Bus namespace for channel delivery (deliveryTransport = 'servicebus' in main.bicep):
// Standard tier (queues with duplicate detection, scheduled messages, dead-lettering), one
// queue per channel named as the Storage delivery queues are (delivery-<channel>). Local
// (SAS key) auth is off: the app signs in with its managed identity (role-assignments.bicep).
//   duplicate detection  on the message id, which is the delivery id for a delivery's first
//                        send (a journey's send activity run again is dropped by the namespace)
//   dead-lettering       after maxDeliveryCount failed invocations, and on expiry
//   scheduling           quiet-hours deferrals, retry backoffs and rate-limit waits are
//                        scheduled messages (the app sets ScheduledEnqueueTime)
// Parameters and outputs follow the Azure Verified Modules shape (avm/res/service-bus/namespace).

metadata description = 'Service Bus namespace (Standard) with one delivery queue per channel, local auth disabled'

@description('Required. Name of the namespace (6-50 letters, digits and hyphens, starting with a letter).')
@minLength(6)
@maxLength(50)
param name string

@description('Optional. Location for the namespace.')
param location string = resourceGroup().location

@description('Optional. Tags of the resource.')
param tags object = {}

@description('Required. The queues to create, by name (one per channel).')
param queueNames string[]

@description('Optional. How long the namespace remembers message ids to drop duplicates (ISO 8601, 20 seconds to 7 days).')
param duplicateDetectionWindow string = 'P1D'

@description('Optional. Failed invocations of a message before it is dead-lettered (host.json maxDequeueCount is the Storage queues\' equivalent).')
@minValue(1)
@maxValue(2000)
param maxDeliveryCount int = 5

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queueName in queueNames: {
    parent: namespace
    name: queueName
    properties: {
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
      deadLetteringOnMessageExpiration: true
      maxDeliveryCount: maxDeliveryCount
      // Longer than any provider call; the host renews the lock while the function runs.
      lockDuration: 'PT1M'
      // A delivery that waits out an outage must still go out (as on Storage queues, which never expire).
      defaultMessageTimeToLive: 'P14D'
      enablePartitioning: false
      requiresSession: false
    }
  }
]

@description('The name of the namespace.')
output name string = namespace.name

@description('The host name the app connects to (ServiceBusConnection__fullyQualifiedNamespace).')
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
