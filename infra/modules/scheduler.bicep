// The Durable Task Scheduler and its task hub. Data access is granted on the task hub alone (the narrowest scope
// Microsoft documents for the Durable Task roles), to the app's identity and optionally to the deployer.
param name string
param location string
param tags object
param skuName string
param capacity int
@description('Addresses allowed through the scheduler\'s firewall: the NAT gateway\'s IP plus whatever the user added')
param ipAllowlist array
param taskHubName string
param identityPrincipalId string
param userPrincipalId string
@allowed(['User', 'ServicePrincipal', 'Group'])
param userPrincipalType string

var durableTaskDataContributor = '0ad04412-c4d5-4796-b79c-f76d14c8d402'
var isDedicated = skuName == 'Dedicated'

resource scheduler 'Microsoft.DurableTask/schedulers@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    ipAllowlist: ipAllowlist
    publicNetworkAccess: 'Enabled'
    sku: isDedicated ? { name: skuName, capacity: capacity } : { name: skuName }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2026-02-01' = {
  parent: scheduler
  name: taskHubName
}

resource appAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(taskHub.id, identityPrincipalId, durableTaskDataContributor)
  scope: taskHub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', durableTaskDataContributor)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource userAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(taskHub.id, userPrincipalId, durableTaskDataContributor)
  scope: taskHub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', durableTaskDataContributor)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

output name string = scheduler.name
output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
// The task hub's own dashboard address (TaskHubProperties.dashboardUrl in the Microsoft.DurableTask API), not one
// built here from the documented https://dashboard.durabletask.io/?endpoint=...&taskhub=... form.
output dashboardUrl string = taskHub.properties.dashboardUrl
