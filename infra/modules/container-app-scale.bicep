// The second step of the container app's deployment: the app container-app.bicep created, written again with
// `template.scale.allowScalingRuleOverride: true` and the KEDA rules. Microsoft documents the override as an update
// of an existing Functions app (learn.microsoft.com/azure/container-apps/functions-scale-rule-override); an app
// created with it, or with rules while the platform manages scaling, is refused (AllowScalingRuleOverrideNotApplicable,
// FunctionAppCannotSetScaleRules). A module is a deployment of its own, so this PUT runs after the create finished.
param name string
param location string
param tags object
param identityId string
@description('The app\'s whole properties, as container-app.bicep created them, with the scale override and rules')
param properties object

resource containerApp 'Microsoft.App/containerApps@2026-07-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: properties
}
