// Storage account for the Functions host (AzureWebJobsStorage) and for Nudge's
// own tables, queues and blobs. Shared-key access is off: every caller signs in
// with Microsoft Entra ID. Parameters and outputs follow the Azure Verified
// Modules shape (avm/res/storage/storage-account).

metadata description = 'Storage account (blob, queue, table) with shared-key access disabled'

@description('Required. Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Optional. Location for the storage account.')
param location string = resourceGroup().location

@description('Optional. Tags of the resource.')
param tags object = {}

@description('Optional. Redundancy of the account. ZRS keeps data in three zones of the same region.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string = 'Standard_LRS'

@description('Optional. Blob containers to create, by name.')
param blobContainerNames string[] = []

@description('Optional. Days a deleted blob can be restored (blob soft delete).')
@minValue(1)
@maxValue(365)
param blobDeleteRetentionDays int = 7

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    dnsEndpointType: 'Standard'
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: 'Enabled'
    supportsHttpsTrafficOnly: true
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storageAccount
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: blobDeleteRetentionDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in blobContainerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

@description('The name of the storage account.')
output name string = storageAccount.name

@description('The resource ID of the storage account.')
output resourceId string = storageAccount.id

@description('The primary blob endpoint, for example https://<name>.blob.core.windows.net/.')
output primaryBlobEndpoint string = storageAccount.properties.primaryEndpoints.blob

@description('The service endpoints of the account (blob, queue, table).')
output serviceEndpoints object = {
  blob: storageAccount.properties.primaryEndpoints.blob
  queue: storageAccount.properties.primaryEndpoints.queue
  table: storageAccount.properties.primaryEndpoints.table
}

@description('The resource group the account was deployed into.')
output resourceGroupName string = resourceGroup().name

@description('The location the account was deployed into.')
output location string = storageAccount.location
