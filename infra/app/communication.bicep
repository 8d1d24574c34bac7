// Azure Communication Services with an Email Communication Service and an
// Azure-managed sending domain (<guid>.azurecomm.net, no DNS work needed).
// All three are global resources; dataLocation pins where their data rests.
// Custom domains (with SPF/DKIM records) can be added to the email service
// later and linked the same way.

metadata description = 'Communication Services + Email Communication Service + Azure-managed domain'

@description('Required. Name of the Communication Services resource.')
param communicationServiceName string

@description('Required. Name of the Email Communication Service resource.')
param emailServiceName string

@description('Required. Where the services keep data at rest, for example Korea, Japan, Asia Pacific, Europe or United States.')
param dataLocation string

@description('Optional. Tags of the resources.')
param tags object = {}

@description('Optional. Turn off access keys and connection strings: callers must present a Microsoft Entra token.')
param disableLocalAuth bool = true

@description('Optional. Track opens and clicks by rewriting links and adding a pixel. Off by default: Nudge records clicks itself.')
param userEngagementTracking bool = false

resource emailService 'Microsoft.Communication/emailServices@2025-05-01' = {
  name: emailServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource managedDomain 'Microsoft.Communication/emailServices/domains@2025-05-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: userEngagementTracking ? 'Enabled' : 'Disabled'
  }
}

resource communicationService 'Microsoft.Communication/communicationServices@2025-05-01' = {
  name: communicationServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    disableLocalAuth: disableLocalAuth
    linkedDomains: [
      managedDomain.id
    ]
  }
}

@description('The name of the Communication Services resource.')
output name string = communicationService.name

@description('The resource ID of the Communication Services resource.')
output resourceId string = communicationService.id

@description('The endpoint the app calls, for example https://<name>.<geo>.communication.azure.com.')
output endpoint string = 'https://${communicationService.properties.hostName}'

@description('The name of the Email Communication Service resource.')
output emailServiceName string = emailService.name

@description('The Azure-managed sending domain, for example <guid>.azurecomm.net.')
output senderDomain string = managedDomain.properties.mailFromSenderDomain

@description('The resource group the resources were deployed into.')
output resourceGroupName string = resourceGroup().name
