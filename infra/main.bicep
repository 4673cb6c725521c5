// One `azd up`: a resource group holding the Function App (client + hosted DTS worker), its Durable Task
// Scheduler and task hub, a user-assigned identity, identity-only storage and monitoring, and the VNet + NAT
// gateway whose static IP is the only address the scheduler admits unless the user adds more. No keys anywhere.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; prefixes every resource')
param environmentName string

// Regions that offer both Flex Consumption and the Durable Task Scheduler: the intersection of the location lists
// in Microsoft's own azd templates, Azure-Samples/functions-quickstart-python-http-azd (Flex Consumption) and
// Azure-Samples/Durable-Task-Scheduler samples/durable-functions/python/pdf-summarizer (scheduler), without the
// eastus2euap canary. Both services keep adding regions: `az functionapp list-flexconsumption-locations` and
// `az provider show -n Microsoft.DurableTask --query "resourceTypes[?resourceType=='schedulers'].locations"`.
@minLength(1)
@description('Azure region for every resource')
@allowed([
  'australiaeast'
  'eastasia'
  'eastus'
  'eastus2'
  'northeurope'
  'southcentralus'
  'southeastasia'
  'swedencentral'
  'uksouth'
  'westus2'
])
@metadata({ azd: { type: 'location' } })
param location string

@description('Function App hosting: FlexConsumption (default, with always-ready instances) or ElasticPremium (EP1-EP3 with minimum instances)')
@allowed(['FlexConsumption', 'ElasticPremium'])
param hostingPlan string = 'FlexConsumption'

@description('Always-ready (Flex) or minimum (Elastic Premium) instances: at least 1 so the hosted worker keeps draining the scheduler')
@minValue(1)
param alwaysReadyInstances int = 1

@description('Flex Consumption: the most instances the app may scale out to')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Flex Consumption: memory per instance')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Elastic Premium size when hostingPlan is ElasticPremium')
@allowed(['EP1', 'EP2', 'EP3'])
param elasticPremiumSku string = 'EP1'

@description('Durable Task Scheduler SKU: Consumption (pay per action) or Dedicated (reserved capacity units)')
@allowed(['Consumption', 'Dedicated'])
param schedulerSku string = 'Consumption'

@description('Dedicated SKU only: capacity units (each about 2,000 work items/s)')
@minValue(1)
@maxValue(3)
param schedulerCapacity int = 1

@description('Extra comma-separated IPv4/IPv6 addresses or CIDR ranges allowed to reach the scheduler (its gRPC endpoint and dashboard), such as your own IP; empty entries are dropped. The app\'s NAT gateway IP is always allowed. 0.0.0.0/0 opens the scheduler to the internet and is never a default.')
param schedulerAllowedIpRanges string = ''

@description('Minutes the NAT gateway keeps a quiet connection (the worker\'s work-item stream) open')
@minValue(4)
@maxValue(120)
param natIdleTimeoutInMinutes int = 120

@description('Task hub the app uses')
param taskHubName string = 'default'

@description('Object id of the deployer (azd fills AZURE_PRINCIPAL_ID with whoever is signed in), granted Durable Task Data Contributor on the task hub so the DTS dashboard works; empty grants nothing')
param principalId string = ''

@description('Kind of principal principalId is (azd fills AZURE_PRINCIPAL_TYPE): ServicePrincipal when deploying from CI')
@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'User'

@description('Activity thread pool of the hosted worker (DTS_MAX_ACTIVITY_THREADS)')
param maxActivityThreads int = 100

@description('Activity work items in flight per worker process (DTS_MAX_CONCURRENT_ACTIVITIES)')
param maxConcurrentActivities int = 500

@description('Orchestration work items in flight per worker process (DTS_MAX_CONCURRENT_ORCHESTRATIONS)')
param maxConcurrentOrchestrations int = 100

@description('Entity batches in flight per worker process (DTS_MAX_CONCURRENT_ENTITIES)')
param maxConcurrentEntities int = 100

var tags = { 'azd-env-name': environmentName }
var token = toLower(uniqueString(subscription().id, environmentName, location))
var isFlex = hostingPlan == 'FlexConsumption'
// A trailing or doubled comma must not become an empty allow-list entry.
var extraAllowedIpRanges = filter(split(replace(schedulerAllowedIpRanges, ' ', ''), ','), entry => !empty(entry))

resource group 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: group
  params: {
    name: 'id-${token}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: group
  params: {
    logAnalyticsName: 'log-${token}'
    applicationInsightsName: 'appi-${token}'
    location: location
    tags: tags
    identityPrincipalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: group
  params: {
    name: 'st${token}'
    location: location
    tags: tags
    identityPrincipalId: identity.outputs.principalId
  }
}

module network 'modules/network.bicep' = {
  name: 'network'
  scope: group
  params: {
    vnetName: 'vnet-${token}'
    natGatewayName: 'ng-${token}'
    publicIpName: 'pip-${token}'
    securityGroupName: 'nsg-${token}'
    location: location
    tags: tags
    delegation: isFlex ? 'Microsoft.App/environments' : 'Microsoft.Web/serverFarms'
    idleTimeoutInMinutes: natIdleTimeoutInMinutes
  }
}

module scheduler 'modules/scheduler.bicep' = {
  name: 'scheduler'
  scope: group
  params: {
    name: 'dts-${token}'
    location: location
    tags: tags
    skuName: schedulerSku
    capacity: schedulerCapacity
    ipAllowlist: concat(['${network.outputs.outboundIp}/32'], extraAllowedIpRanges)
    taskHubName: taskHubName
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: group
  params: {
    name: 'func-${token}'
    planName: 'plan-${token}'
    location: location
    tags: tags
    siteTags: union(tags, { 'azd-service-name': 'api' })
    hostingPlan: hostingPlan
    alwaysReadyInstances: alwaysReadyInstances
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    elasticPremiumSku: elasticPremiumSku
    subnetId: network.outputs.subnetId
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    schedulerEndpoint: scheduler.outputs.endpoint
    taskHubName: scheduler.outputs.taskHubName
    maxActivityThreads: maxActivityThreads
    maxConcurrentActivities: maxConcurrentActivities
    maxConcurrentOrchestrations: maxConcurrentOrchestrations
    maxConcurrentEntities: maxConcurrentEntities
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = group.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.url
output AZURE_CLIENT_ID string = identity.outputs.clientId
output DTS_SCHEDULER_NAME string = scheduler.outputs.name
output DTS_ENDPOINT string = scheduler.outputs.endpoint
output DTS_TASKHUB_NAME string = scheduler.outputs.taskHubName
output DTS_DASHBOARD_URL string = scheduler.outputs.dashboardUrl
output DTS_OUTBOUND_IP string = network.outputs.outboundIp
