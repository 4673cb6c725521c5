// The Function App: HTTP triggers (DTS client) plus the hosted DTS worker, on Linux, Python 3.11.
// Only triggers drive Functions scaling and the scale controller cannot see the scheduler's backlog, so the
// app always keeps warm instances (Flex always-ready, or Elastic Premium minimum instances) to drain it.
param name string
param planName string
param location string
param tags object
@allowed(['FlexConsumption', 'ElasticPremium'])
param hostingPlan string
param alwaysReadyInstances int
param maximumInstanceCount int
param instanceMemoryMB int
param elasticPremiumSku string
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerUrl string
param applicationInsightsConnectionString string
param schedulerEndpoint string
param taskHubName string
param maxActivityThreads int
param maxConcurrentActivities int
param maxConcurrentOrchestrations int
param maxConcurrentEntities int

var isFlex = hostingPlan == 'FlexConsumption'

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  //checkov:skip=CKV_AZURE_225: zone redundancy is not offered for every plan in every region; enable it where it is, the scheduler keeps the durable state
  name: planName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? { name: 'FC1', tier: 'FlexConsumption' } : { name: elasticPremiumSku, tier: 'ElasticPremium' }
  properties: {
    reserved: true
    maximumElasticWorkerCount: isFlex ? null : maximumInstanceCount
  }
}

// Flex Consumption: runtime, scale and the deployment package live in functionAppConfig.
var flexConfig = {
  deployment: {
    storage: {
      type: 'blobContainer'
      value: deploymentContainerUrl
      authentication: {
        type: 'UserAssignedIdentity'
        userAssignedIdentityResourceId: identityId
      }
    }
  }
  scaleAndConcurrency: {
    alwaysReady: [{ name: 'http', instanceCount: alwaysReadyInstances }]
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
  runtime: { name: 'python', version: '3.11' }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  //checkov:skip=CKV_AZURE_222: the HTTP API is public by design, every route but health requires a function key; put it behind a private endpoint or API Management to close it
  //checkov:skip=CKV_AZURE_17: client certificates do not fit an API called by scripts with function keys
  //checkov:skip=CKV_AZURE_212: alwaysReadyInstances sets the warm instances; raise it to 2 or more for failover
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    functionAppConfig: isFlex ? flexConfig : null
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      healthCheckPath: '/api/health'
      linuxFxVersion: isFlex ? null : 'Python|3.11'
      minimumElasticInstanceCount: isFlex ? null : alwaysReadyInstances
      functionAppScaleLimit: isFlex ? null : maximumInstanceCount
    }
  }
}

var connectionString = 'Endpoint=${schedulerEndpoint};TaskHub=${taskHubName};Authentication=ManagedIdentity;ClientID=${identityClientId}'

var commonSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  AZURE_CLIENT_ID: identityClientId
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: connectionString
  TASKHUB_NAME: taskHubName
  DTS_MAX_ACTIVITY_THREADS: string(maxActivityThreads)
  DTS_MAX_CONCURRENT_ACTIVITIES: string(maxConcurrentActivities)
  DTS_MAX_CONCURRENT_ORCHESTRATIONS: string(maxConcurrentOrchestrations)
  DTS_MAX_CONCURRENT_ENTITIES: string(maxConcurrentEntities)
  PYTHON_ISOLATE_WORKER_DEPENDENCIES: '1'
}

// Flex rejects the runtime settings (functionAppConfig carries them); Elastic Premium needs them.
var elasticPremiumSettings = {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'python'
  WEBSITE_RUN_FROM_PACKAGE: '1'
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  //checkov:skip=CKV_AZURE_13: callers authenticate with function keys; App Service Authentication would also block the anonymous health probe
  //checkov:skip=CKV_AZURE_63: request logs go to Application Insights; App Service HTTP logs do not apply to Functions
  //checkov:skip=CKV_AZURE_65: detailed error pages do not apply to a JSON API whose failures go to Application Insights
  //checkov:skip=CKV_AZURE_66: failed-request traces go to Application Insights
  //checkov:skip=CKV_AZURE_80: the app runs Python, not .NET Framework
  //checkov:skip=CKV_AZURE_88: the app keeps no files: durable state lives in the scheduler, the package in blob storage
  //checkov:skip=CKV_AZURE_222: this resource holds app settings; the site's network access is set (and explained) on the site
  parent: site
  name: 'appsettings'
  properties: isFlex ? commonSettings : union(commonSettings, elasticPremiumSettings)
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostName}'
