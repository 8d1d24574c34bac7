// The Nudge function app: a Linux function app that runs the .NET isolated
// worker (runtime in functionAppConfig), signs in as one user-assigned identity, and
// takes every setting from `appSettings` (no connection strings, no keys),
// keeping the settings an operator added beside the template.
// Parameters and outputs follow the Azure Verified Modules shape
// (avm/res/web/site: kind, serverFarmResourceId, managedIdentities,
// functionAppConfig, appSettingsKeyValuePairs, keyVaultAccessIdentityResourceId).

metadata description = 'Linux function app with a user-assigned identity and identity-based settings'

@description('Required. Name of the function app (globally unique host name).')
param name string

@description('Optional. Location for the app.')
param location string = resourceGroup().location

@description('Optional. Tags of the resource. Include azd-service-name so azd deploy finds the app.')
param tags object = {}

@description('Optional. The kind of site.')
param kind string = 'functionapp,linux'

@description('Required. Resource ID of the hosting plan.')
param serverFarmResourceId string

@description('Required. Resource IDs of the user-assigned identities to attach.')
param managedIdentities object

@description('Required. Resource ID of the identity used to resolve Key Vault references in app settings.')
param keyVaultAccessIdentityResourceId string

@description('Optional. Flex Consumption configuration: deployment storage, scale and concurrency, runtime.')
param functionAppConfig object = {}

@description('Required. App settings as name/value pairs. They are set over the settings already on the app, which stay (see function-app-settings.bicep).')
param appSettingsKeyValuePairs object

@description('Optional. The delivery transport\'s app settings, set over appSettingsKeyValuePairs (a separate object, so each transport choice is one literal object).')
param transportAppSettings object = {}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: kind
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: toObject(managedIdentities.userAssignedResourceIds, id => id, id => {})
  }
  properties: {
    serverFarmId: serverFarmResourceId
    httpsOnly: true
    clientAffinityEnabled: false
    publicNetworkAccess: 'Enabled'
    keyVaultReferenceIdentity: keyVaultAccessIdentityResourceId
    functionAppConfig: empty(functionAppConfig) ? null : functionAppConfig
    // Flex Consumption rejects most legacy siteConfig properties (alwaysOn,
    // linuxFxVersion, functionAppScaleLimit, ...); keep to what it supports.
    siteConfig: {
      minTlsVersion: '1.2'
    }
  }
}

// What is set on the app now (nothing on the first deployment), read after the app exists.
resource currentSettings 'Microsoft.Web/sites/config@2024-04-01' existing = {
  parent: site
  name: 'appsettings'
}

module appSettings 'function-app-settings.bicep' = {
  name: take('${name}-appsettings', 64)
  params: {
    siteName: site.name
    currentAppSettings: currentSettings.list().properties
    appSettingsKeyValuePairs: union(appSettingsKeyValuePairs, transportAppSettings)
  }
}

@description('The name of the function app.')
output name string = site.name

@description('The resource ID of the function app.')
output resourceId string = site.id

@description('The default host name, for example <name>.azurewebsites.net.')
output defaultHostname string = site.properties.defaultHostName

@description('The resource group the app was deployed into.')
output resourceGroupName string = resourceGroup().name
