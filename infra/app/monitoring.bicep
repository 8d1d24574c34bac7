// Log Analytics workspace + workspace-based Application Insights, both with
// local (key-based) authentication turned off: telemetry is accepted only from
// callers that present a Microsoft Entra token (the app's managed identity,
// which holds Monitoring Metrics Publisher on the component).
// Outputs follow the Azure Verified Modules shape
// (avm/res/operational-insights/workspace, avm/res/insights/component).

metadata description = 'Log Analytics workspace and Application Insights with local auth disabled'

@description('Required. Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Optional. Location for both resources.')
param location string = resourceGroup().location

@description('Optional. Tags of the resources.')
param tags object = {}

@description('Optional. Days logs are kept. 30 days is included in the ingestion price.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('Optional. Daily ingestion cap in GB; -1 means no cap.')
param dailyQuotaGb int = -1

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    workspaceCapping: {
      dailyQuotaGb: dailyQuotaGb
    }
    features: {
      disableLocalAuth: true
      enableLogAccessUsingOnlyResourcePermissions: true
    }
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
    IngestionMode: 'LogAnalytics'
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

@description('The name of the Application Insights component.')
output name string = applicationInsights.name

@description('The resource ID of the Application Insights component.')
output resourceId string = applicationInsights.id

@description('The connection string of the component. With local auth off it only routes telemetry; it grants nothing.')
output connectionString string = applicationInsights.properties.ConnectionString

@description('The name of the Log Analytics workspace.')
output logAnalyticsWorkspaceName string = workspace.name

@description('The resource ID of the Log Analytics workspace.')
output logAnalyticsWorkspaceResourceId string = workspace.id

@description('The resource group the resources were deployed into.')
output resourceGroupName string = resourceGroup().name
