// User-assigned managed identity: the one identity the function app uses for
// storage, monitoring, Key Vault references and Communication Services.
// Parameters and outputs follow the Azure Verified Modules shape
// (avm/res/managed-identity/user-assigned-identity).

metadata description = 'User-assigned managed identity'

@description('Required. Name of the user-assigned managed identity.')
param name string

@description('Optional. Location for the identity.')
param location string = resourceGroup().location

@description('Optional. Tags of the resource.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('The name of the identity.')
output name string = identity.name

@description('The resource ID of the identity.')
output resourceId string = identity.id

@description('The principal (object) ID of the identity, used in role assignments.')
output principalId string = identity.properties.principalId

@description('The client (application) ID of the identity, used by the app to pick it.')
output clientId string = identity.properties.clientId

@description('The resource group the identity was deployed into.')
output resourceGroupName string = resourceGroup().name

@description('The location the identity was deployed into.')
output location string = identity.location
