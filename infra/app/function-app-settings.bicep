// The function app's settings: the template's own over those already on the app.
// A Microsoft.Web/sites/config 'appsettings' deployment replaces the whole set, so
// the settings an operator adds beside the template (more shops under Shops__N__*,
// SMS and Kakao provider keys as Key Vault references, frequency caps) would be
// gone after every `azd provision`; they are read first and kept. A setting the
// template stops producing therefore stays until it is removed by hand.
// The same approach as avm/res/web/site (config: currentAppSettings).

metadata description = 'Function app settings: the template\'s settings over the ones already set'

@description('Required. Name of the function app.')
param siteName string

@secure()
@description('Required. The settings on the app now (from list()); Key Vault references and names, kept out of the deployment history.')
param currentAppSettings object

@description('Required. The settings the template sets; they win over the current ones.')
param appSettingsKeyValuePairs object

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: siteName
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(currentAppSettings, appSettingsKeyValuePairs)
}
