// App Service plan for the function app. The default is the Flex Consumption
// plan (FC1): Linux, scale to zero, billed per execution; the app declares its
// runtime itself (functionAppConfig.runtime, here dotnet-isolated 10.0).
// Parameters and outputs follow the Azure Verified Modules shape
// (avm/res/web/serverfarm).

metadata description = 'Hosting plan for the function app (Flex Consumption by default)'

@description('Required. Name of the plan.')
param name string

@description('Optional. Location for the plan.')
param location string = resourceGroup().location

@description('Optional. Tags of the resource.')
param tags object = {}

@description('Optional. The plan SKU. Flex Consumption is FC1 / FlexConsumption.')
param sku object = {
  name: 'FC1'
  tier: 'FlexConsumption'
}

@description('Optional. The kind of plan.')
param kind string = 'functionapp'

@description('Optional. Linux plan. Flex Consumption is Linux only.')
param reserved bool = true

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: kind
  sku: sku
  properties: {
    reserved: reserved
  }
}

@description('The name of the plan.')
output name string = plan.name

@description('The resource ID of the plan.')
output resourceId string = plan.id

@description('The resource group the plan was deployed into.')
output resourceGroupName string = resourceGroup().name
