// The app on Azure Container Apps: the same function_app.py in an image on the Functions Python base image, run
// as a native Functions app (`kind: functionapp`) whose replicas follow the scheduler's backlog. The platform
// derives scale rules from an app's triggers and cannot see that backlog, so allowScalingRuleOverride replaces them
// with two KEDA rules of our own: HTTP concurrency for the API, and the azure-durabletask-scheduler scaler on the
// task hub's orchestration, activity and entity work items, authenticated with the app's managed identity.
// Microsoft documents the override only as an update of an existing `kind: functionapp` app ("Override
// auto-generated KEDA scale rules for Azure Functions on Container Apps", learn.microsoft.com/azure/container-apps/
// functions-scale-rule-override: a PATCH of an app already running in platform-managed mode), so the app is
// written in platform-managed mode first, and container-app-scale.bicep applies the override and the rules in a
// second, dependent step (both full PUTs of the same body but for `scale`).
// The environment sits on the NAT gateway's subnet, so the scheduler admits it by the same static IP.
param name string
param environmentName string
param registryName string
param location string
param tags object
@description('Tags for the container app only: azd finds the service by its azd-service-name tag')
param appTags object
param subnetId string
param logAnalyticsWorkspaceId string
param identityId string
param identityPrincipalId string
@description('Image azd last deployed (SERVICE_<NAME>_IMAGE_NAME); empty on the first provision, when a public Functions image holds the place until azd deploys the app\'s own')
param image string
param minReplicas int
param maxReplicas int
param httpConcurrentRequests int
param orchestrationWorkItemsPerReplica int
param activityWorkItemsPerReplica int
param entityWorkItemsPerReplica int
param cpu string
param memory string
@description('App settings, the same the Function App plans get, passed to the container as environment variables')
param appSettings object
param schedulerEndpoint string
param taskHubName string

var acrPull = '7f951dba-4ed6-4e5d-be0e-8ab1e1a4b1c2'
// Microsoft's Functions quickstart image: a Functions host that starts without the app's image, so the first
// provision succeeds before azd has built anything.
var placeholderImage = 'mcr.microsoft.com/azure-functions/dotnet8-quickstart-demo:1.0'
var hasImage = !empty(image)
// Function keys live in the identity-reached storage account, like on the other plans: the default (files) is
// the container's own disk, lost on every restart and different on every replica.
var containerSettings = union(appSettings, { AzureWebJobsSecretStorageType: 'blob' })

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' = {
  //checkov:skip=CKV_AZURE_139: azd's remote build uploads the source to ACR Tasks over the public endpoint, and ACR Tasks cannot reach a registry without it; admin user and anonymous pull are off, so only identities with an ACR role get in
  //checkov:skip=CKV_AZURE_163: vulnerability scanning is Microsoft Defender for Containers, enabled per subscription, not a registry property
  //checkov:skip=CKV_AZURE_166: quarantine needs Premium and a scanner to release images; the image is built from this repository by azd
  //checkov:skip=CKV_AZURE_233: zone redundancy needs Premium; the image is rebuilt by any azd deploy
  name: registryName
  location: location
  tags: tags
  sku: { name: 'Basic' }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

resource registryPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identityPrincipalId, acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// A workload-profiles environment (Consumption profile) is the kind that takes a NAT gateway on its subnet.
// Logs go to Azure Monitor and from there to Log Analytics by a diagnostic setting: the log-analytics
// destination would need the workspace's shared key.
resource environment 'Microsoft.App/managedEnvironments@2026-07-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    vnetConfiguration: {
      infrastructureSubnetId: subnetId
      internal: false
    }
    workloadProfiles: [{ name: 'Consumption', workloadProfileType: 'Consumption' }]
    appLogsConfiguration: { destination: 'azure-monitor' }
    zoneRedundant: false
  }
}

resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs-to-workspace'
  scope: environment
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

// The scheduler's scaler: one rule per work item kind, each asking for a replica per `target` pending items.
var backlogRules = [
  { kind: 'Orchestration', target: orchestrationWorkItemsPerReplica }
  { kind: 'Activity', target: activityWorkItemsPerReplica }
  { kind: 'Entity', target: entityWorkItemsPerReplica }
]

var schedulerRules = [
  for rule in backlogRules: {
    name: 'dts-${toLower(rule.kind)}'
    custom: {
      type: 'azure-durabletask-scheduler'
      identity: identityId
      metadata: {
        endpoint: schedulerEndpoint
        taskhubName: taskHubName
        workItemType: rule.kind
        maxConcurrentWorkItemsCount: string(rule.target)
      }
    }
  }
]

var httpRule = {
  name: 'http'
  http: { metadata: { concurrentRequests: string(httpConcurrentRequests) } }
}

// Everything but the scale section, the same in both steps: the second PUT must not lose what the first set.
var appProperties = {
  managedEnvironmentId: environment.id
  workloadProfileName: 'Consumption'
  configuration: {
    activeRevisionsMode: 'Single'
    ingress: {
      external: true
      targetPort: 80
      transport: 'auto'
      allowInsecure: false
    }
    registries: [{ server: registry.properties.loginServer, identity: identityId }]
  }
}

var containers = [
  {
    name: 'app'
    image: hasImage ? image : placeholderImage
    env: [for setting in items(containerSettings): { name: setting.key, value: setting.value }]
    resources: { cpu: json(cpu), memory: memory }
  }
]

var replicaBounds = { minReplicas: minReplicas, maxReplicas: maxReplicas }

// Step one says platform-managed scaling explicitly: `allowScalingRuleOverride: false` and `rules: []`. On the first
// provision that is what the platform would assume anyway. On every later provision the app already runs with the
// override and the backlog rules of step two, and Microsoft's functions-scale-rule-override page says a switch back
// to platform-managed scaling while custom rules exist is refused (FunctionAppCannotSetScaleRules) unless the body
// clears them with `rules: []`; a body with neither key would leave the rules in place under a mode that forbids
// them. So each provision passes through platform mode for the moments between the two writes, then step two
// puts the override and the rules back.
var platformScale = union(replicaBounds, { allowScalingRuleOverride: false, rules: [] })

resource containerApp 'Microsoft.App/containerApps@2026-07-01' = {
  name: name
  location: location
  tags: appTags
  kind: 'functionapp'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: union(appProperties, { template: { containers: containers, scale: platformScale } })
  dependsOn: [registryPull]
}

// Step two, once the app exists: the same app with the override and the backlog rules.
module backlogScaling 'container-app-scale.bicep' = {
  name: '${containerApp.name}-scale-rules'
  params: {
    name: containerApp.name
    location: location
    tags: appTags
    identityId: identityId
    properties: union(appProperties, {
      template: {
        containers: containers
        scale: union(replicaBounds, { allowScalingRuleOverride: true, rules: concat([httpRule], schedulerRules) })
      }
    })
  }
}

output name string = containerApp.name
output url string = 'https://${containerApp.properties.configuration.ingress.fqdn}'
output registryEndpoint string = registry.properties.loginServer
