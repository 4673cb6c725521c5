// One `azd up`: a resource group holding the app (HTTP client + hosted DTS worker) as a Function App on Flex
// Consumption or Elastic Premium, or as a Functions app on Azure Container Apps that scales on the scheduler's
// backlog; its Durable Task Scheduler and task hub, a user-assigned identity, identity-only storage and
// monitoring, and the VNet + NAT gateway whose static IP is the only address the scheduler admits unless the
// user adds more. No keys anywhere.
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

@description('Hosting: FlexConsumption (default, with always-ready instances), ElasticPremium (EP1-EP3 with minimum instances) or ContainerApps (Functions on Azure Container Apps, replicas follow the scheduler\'s backlog)')
@allowed(['FlexConsumption', 'ElasticPremium', 'ContainerApps'])
param hostingPlan string = 'FlexConsumption'

// Python versions Microsoft lists for both Function App plans here: the Microsoft.Web/functionAppStacks answer
// (a copy: Azure/azure-powershell src/Functions/Functions.Autorest/custom/FunctionsStack/functionAppStacks.json)
// gives each GA version a Linux `Python|3.x` (Elastic Premium's linuxFxVersion) and an FC1 SKU (Flex's
// functionAppConfig runtime); Azure/azure-functions-docker builds the Container Apps base image
// (mcr.microsoft.com/azure-functions/python:4-python3.x, host/4/bookworm/python) for each. 3.10 is left out: the
// app needs 3.11 (datetime.UTC). The Dockerfile's PYTHON_VERSION default follows this default.
@description('Python of the app on every plan: Flex Consumption\'s runtime version, Elastic Premium\'s linuxFxVersion, and the Container Apps image\'s base (the Dockerfile\'s PYTHON_VERSION build argument). 3.13 and later run the Functions Python runtime pinned in requirements.txt')
@allowed(['3.11', '3.12', '3.13'])
param pythonVersion string = '3.13'

@description('Always-ready (Flex) or minimum (Elastic Premium) instances: at least 1 so the hosted worker keeps draining the scheduler')
@minValue(1)
param alwaysReadyInstances int = 1

// The platform's bounds for Flex's maximumInstanceCount: the Microsoft.Web/functionAppStacks answer gives every FC1
// stack `maximumInstanceCount: { lowestMaximumInstanceCount: 40, highestMaximumInstanceCount: 1000, defaultValue: 100 }`
// (the copy in Azure/azure-powershell, src/Functions/Functions.Autorest/custom/FunctionsStack/functionAppStacks.json;
// the Functions VS Code extension validates its input against the same two numbers).
@description('Flex Consumption: the most instances the app may scale out to, 40 to 1,000 (the platform\'s bounds)')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Flex Consumption: memory per instance')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Elastic Premium size when hostingPlan is ElasticPremium')
@allowed(['EP1', 'EP2', 'EP3'])
param elasticPremiumSku string = 'EP1'

// Microsoft's "Azure Functions hosting options" (functions-scale) gives a Premium plan on Linux 20 to 100 instances
// by region (Windows 100), against Flex Consumption's 1,000: 20 is what every region allows.
@description('Elastic Premium: the most instances the plan may scale out to; Linux Premium plans allow 20 in every region and up to 100 in some')
@minValue(1)
@maxValue(100)
param elasticPremiumMaximumInstanceCount int = 20

@description('ContainerApps: the fewest replicas. 0 lets the app scale to zero (the scaler polls the scheduler itself and wakes it), at the price of a cold start for the first request or work item; 1 keeps the API and the worker warm')
@minValue(0)
@maxValue(1000)
param containerMinReplicas int = 1

@description('ContainerApps: the most replicas the scale rules may ask for')
@minValue(1)
@maxValue(1000)
param containerMaxReplicas int = 10

@description('ContainerApps: concurrent HTTP requests per replica before the HTTP rule adds one')
@minValue(1)
param httpConcurrentRequests int = 100

@description('ContainerApps: pending orchestration work items per replica (the scaler\'s maxConcurrentWorkItemsCount); keep at or below maxConcurrentOrchestrations')
@minValue(1)
param orchestrationWorkItemsPerReplica int = 100

@description('ContainerApps: pending activity work items per replica; keep at or below maxConcurrentActivities, and near what one replica really runs at once (maxActivityThreads)')
@minValue(1)
param activityWorkItemsPerReplica int = 100

@description('ContainerApps: pending entity work items per replica; keep at or below maxConcurrentEntities')
@minValue(1)
param entityWorkItemsPerReplica int = 100

@description('ContainerApps: vCPU per replica (Consumption profile pairs: 0.5/1Gi, 1/2Gi, 2/4Gi, 4/8Gi)')
@allowed(['0.5', '1.0', '2.0', '4.0'])
param containerCpu string = '1.0'

@description('ContainerApps: memory per replica, paired with containerCpu')
@allowed(['1Gi', '2Gi', '4Gi', '8Gi'])
param containerMemory string = '2Gi'

@description('ContainerApps: the image azd deployed last (azd fills SERVICE_API_CONTAINERAPP_IMAGE_NAME), so a new provision keeps it; empty before the first deploy')
param containerImage string = ''

@description('Durable Task Scheduler SKU: Consumption (pay per action; documented in preview at up to 500 actions per second, 30 days of retention, no high availability) or Dedicated (reserved capacity units)')
@allowed(['Consumption', 'Dedicated'])
param schedulerSku string = 'Consumption'

@description('Dedicated SKU only: capacity units (each up to 2,000 actions per second and 50 GB of orchestration data)')
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
var isContainerApps = hostingPlan == 'ContainerApps'
var isElasticPremium = hostingPlan == 'ElasticPremium'
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
    uploaderPrincipalId: principalId
    uploaderPrincipalType: principalType
    grantUpload: isElasticPremium
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
    // Flex Consumption's VNet integration and a Container Apps workload-profiles environment both take a subnet
    // delegated to Microsoft.App/environments; Elastic Premium takes one delegated to Microsoft.Web/serverFarms.
    delegation: isElasticPremium ? 'Microsoft.Web/serverFarms' : 'Microsoft.App/environments'
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

// What the app reads, the same on every plan: the scheduler by identity, storage by identity, telemetry by
// identity, and the hosted worker's concurrency.
var appSettings = {
  AzureWebJobsStorage__accountName: storage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
  // The app exports its own telemetry (durable_app/telemetry.py); with host.json's telemetryMode OpenTelemetry
  // this makes the Python worker hand each invocation's trace context to it, so a request is counted once.
  PYTHON_ENABLE_OPENTELEMETRY: 'true'
  AZURE_CLIENT_ID: identity.outputs.clientId
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${scheduler.outputs.endpoint};TaskHub=${scheduler.outputs.taskHubName};Authentication=ManagedIdentity;ClientID=${identity.outputs.clientId}'
  TASKHUB_NAME: scheduler.outputs.taskHubName
  DTS_MAX_ACTIVITY_THREADS: string(maxActivityThreads)
  DTS_MAX_CONCURRENT_ACTIVITIES: string(maxConcurrentActivities)
  DTS_MAX_CONCURRENT_ORCHESTRATIONS: string(maxConcurrentOrchestrations)
  DTS_MAX_CONCURRENT_ENTITIES: string(maxConcurrentEntities)
  PYTHON_ISOLATE_WORKER_DEPENDENCIES: '1'
}

module functionApp 'modules/function-app.bicep' = if (!isContainerApps) {
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
    elasticPremiumMaximumInstanceCount: elasticPremiumMaximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    elasticPremiumSku: elasticPremiumSku
    pythonVersion: pythonVersion
    subnetId: network.outputs.subnetId
    identityId: identity.outputs.id
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    packageUrl: storage.outputs.packageUrl
    appSettings: appSettings
  }
}

module containerApp 'modules/container-app.bicep' = if (isContainerApps) {
  name: 'container-app'
  scope: group
  params: {
    name: 'ca-${token}'
    environmentName: 'cae-${token}'
    registryName: 'cr${token}'
    location: location
    tags: tags
    appTags: union(tags, { 'azd-service-name': 'api-containerapp' })
    subnetId: network.outputs.subnetId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    identityId: identity.outputs.id
    identityPrincipalId: identity.outputs.principalId
    image: containerImage
    minReplicas: containerMinReplicas
    maxReplicas: containerMaxReplicas
    httpConcurrentRequests: httpConcurrentRequests
    orchestrationWorkItemsPerReplica: orchestrationWorkItemsPerReplica
    activityWorkItemsPerReplica: activityWorkItemsPerReplica
    entityWorkItemsPerReplica: entityWorkItemsPerReplica
    cpu: containerCpu
    memory: containerMemory
    appSettings: appSettings
    schedulerEndpoint: scheduler.outputs.endpoint
    taskHubName: scheduler.outputs.taskHubName
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = group.name
output AZURE_FUNCTION_APP_NAME string = isContainerApps ? containerApp.outputs.name : functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = isContainerApps ? containerApp.outputs.url : functionApp.outputs.url
// azure.yaml deploys the service whose flag is true: `api` zip-deployed to the Flex Consumption app, `api-containerapp`
// to the container app. Elastic Premium runs from a package in blob storage, which a zip deploy cannot write
// (Kudu refuses a deployment while WEBSITE_RUN_FROM_PACKAGE is a URL): azure.yaml's postdeploy hook
// (scripts/release_package.py) builds and uploads it when DEPLOY_RUN_FROM_PACKAGE is true.
output DEPLOY_FUNCTION_APP bool = hostingPlan == 'FlexConsumption'
output DEPLOY_CONTAINER_APP bool = isContainerApps
output DEPLOY_RUN_FROM_PACKAGE bool = isElasticPremium
output AZURE_FUNCTION_APP_PACKAGE_URL string = isElasticPremium ? storage.outputs.packageUrl : ''
// azd pushes the image it builds to this registry (empty on the Function App plans, which have none).
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = isContainerApps ? containerApp.outputs.registryEndpoint : ''
output AZURE_CLIENT_ID string = identity.outputs.clientId
output DTS_SCHEDULER_NAME string = scheduler.outputs.name
output DTS_ENDPOINT string = scheduler.outputs.endpoint
output DTS_TASKHUB_NAME string = scheduler.outputs.taskHubName
output DTS_DASHBOARD_URL string = scheduler.outputs.dashboardUrl
output DTS_OUTBOUND_IP string = network.outputs.outboundIp
