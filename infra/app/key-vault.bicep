// Key Vault for third-party secrets (shop webhook secrets, SMS/Kakao provider
// keys, the marketer API key). Access is by Azure RBAC only; the function app
// reads secrets through Key Vault references resolved with its user-assigned
// identity (Key Vault Secrets User on this vault).
// Parameters and outputs follow the Azure Verified Modules shape
// (avm/res/key-vault/vault).

metadata description = 'Key Vault (RBAC authorization) with secrets created from secure parameters'

@description('Required. Name of the vault (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Optional. Location for the vault.')
param location string = resourceGroup().location

@description('Optional. Tags of the resource.')
param tags object = {}

@description('Optional. Days a deleted vault or secret stays recoverable (7-90).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 7

@description('Optional. Purge protection. Once on it cannot be turned off, and a deleted vault name stays taken until the retention ends.')
param enablePurgeProtection bool = false

@description('Optional. Secrets to store, as an object of secret name to value. Values are secure and never echoed.')
@secure()
param secrets object = {}

var secretList = items(secrets)

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: enablePurgeProtection ? true : null
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource vaultSecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for secret in secretList: {
    parent: vault
    name: secret.key
    properties: {
      value: secret.value
      contentType: 'text/plain'
    }
  }
]

@description('The name of the vault.')
output name string = vault.name

@description('The resource ID of the vault.')
output resourceId string = vault.id

@description('The URI of the vault, for example https://<name>.vault.azure.net/.')
output uri string = vault.properties.vaultUri

@description('The versionless URIs of the stored secrets, keyed by secret name. Versionless so a rotation is picked up without a redeploy.')
output secretUris object = toObject(secretList, secret => secret.key, secret => '${vault.properties.vaultUri}secrets/${secret.key}')

@description('The resource group the vault was deployed into.')
output resourceGroupName string = resourceGroup().name
