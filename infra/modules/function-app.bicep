// The Function App: HTTP triggers (DTS client) plus the hosted DTS worker, on Linux Python, integrated into
// the VNet whose NAT gateway gives it the static outbound IP the scheduler admits.
// Only triggers drive Functions scaling and the scale controller cannot see the scheduler's backlog, so the
// app always keeps warm instances (Flex always-ready, or Elastic Premium minimum instances) to drain it.
param name string
param planName string
param location string
param tags object
@description('Tags for the site only: azd finds the service by its azd-service-name tag and expects exactly one resource to carry it')
param siteTags object
@allowed(['FlexConsumption', 'ElasticPremium'])
param hostingPlan string
param alwaysReadyInstances int
@description('Flex Consumption: the most instances the app may scale out to')
param maximumInstanceCount int
@description('Elastic Premium: the most instances the plan may scale out to (Linux Premium plans stop at 20 to 100 by region)')
param elasticPremiumMaximumInstanceCount int
param instanceMemoryMB int
param elasticPremiumSku string
@description('Python version (main.bicep lists the versions both plans offer)')
param pythonVersion string
param subnetId string
param identityId string
param deploymentContainerUrl string
@description('Elastic Premium: the blob the app runs from (WEBSITE_RUN_FROM_PACKAGE); the postdeploy hook uploads the package there')
param packageUrl string
@description('App settings every plan gets (main.bicep builds them once)')
param appSettings object

var isFlex = hostingPlan == 'FlexConsumption'

resource plan 'Microsoft.Web/serverfarms@2025-05-01' = {
  //checkov:skip=CKV_AZURE_225: zone redundancy is not offered for every plan in every region; enable it where it is, the scheduler keeps the durable state
  name: planName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? { name: 'FC1', tier: 'FlexConsumption' } : { name: elasticPremiumSku, tier: 'ElasticPremium' }
  properties: isFlex ? { reserved: true } : { reserved: true, maximumElasticWorkerCount: elasticPremiumMaximumInstanceCount }
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
  runtime: { name: 'python', version: pythonVersion }
}

// Flex refuses (ARM error 51021) or ignores FtpsState, LinuxFxVersion, Use32BitWorkerProcess,
// PreWarmedInstanceCount, NetFrameworkVersion, FunctionsRuntimeScaleMonitoringEnabled, functionAppScaleLimit and
// the rest of Microsoft's "Flex Consumption plan deprecations" list, on some regional stamps even when sent as
// null. So the site's own siteConfig holds only what every plan accepts, and the Elastic Premium settings go in
// a separate `web` configuration deployed for that plan alone: nothing is sent to Flex as null.
resource site 'Microsoft.Web/sites@2025-05-01' = {
  //checkov:skip=CKV_AZURE_222: the HTTP API is public by design, every route but health requires a function key; put it behind a private endpoint or API Management to close it
  //checkov:skip=CKV_AZURE_17: client certificates do not fit an API called by scripts with function keys
  //checkov:skip=CKV_AZURE_212: alwaysReadyInstances sets the warm instances; raise it to 2 or more for failover
  //checkov:skip=CKV_AZURE_213: Flex Consumption does not support health checks, so the shared site config carries none; Elastic Premium gets healthCheckPath /api/health from the premiumWebConfig resource below
  //checkov:skip=CKV_AZURE_78: Flex Consumption has no FTP endpoint and refuses ftpsState (ARM error 51021); Elastic Premium gets ftpsState Disabled from the premiumWebConfig resource below
  name: name
  location: location
  tags: siteTags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: subnetId
    functionAppConfig: isFlex ? flexConfig : null
    // No healthCheckPath here: the site's health check is an App Service feature that Flex Consumption does not
    // support (its instances are not probed and replaced), so the path is set in Elastic Premium's `web`
    // configuration below, the plan where the platform probes it. /api/health stays the smoke check's probe on all.
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
    }
  }
}

// Elastic Premium only: the runtime image, FTP off, warm and maximum instances, and all outbound traffic routed
// into the VNet (so through the NAT gateway), which Flex does by itself.
resource premiumWebConfig 'Microsoft.Web/sites/config@2025-05-01' = if (!isFlex) {
  //checkov:skip=CKV_AZURE_13: callers authenticate with function keys; App Service Authentication would also block the anonymous health probe
  //checkov:skip=CKV_AZURE_63: request logs go to Application Insights; App Service HTTP logs do not apply to Functions
  //checkov:skip=CKV_AZURE_65: detailed error pages do not apply to a JSON API whose failures go to Application Insights
  //checkov:skip=CKV_AZURE_66: failed-request traces go to Application Insights
  //checkov:skip=CKV_AZURE_80: the app runs Python, not .NET Framework
  //checkov:skip=CKV_AZURE_88: the app keeps no files: durable state lives in the scheduler, the package in blob storage
  //checkov:skip=CKV_AZURE_222: this resource holds site configuration; the site's network access is set (and explained) on the site
  parent: site
  name: 'web'
  properties: {
    minTlsVersion: '1.2'
    scmMinTlsVersion: '1.2'
    http20Enabled: true
    healthCheckPath: '/api/health'
    ftpsState: 'Disabled'
    linuxFxVersion: 'Python|${pythonVersion}'
    minimumElasticInstanceCount: alwaysReadyInstances
    functionAppScaleLimit: elasticPremiumMaximumInstanceCount
    vnetRouteAllEnabled: true
  }
}

// Flex takes the runtime from functionAppConfig and refuses these settings. Elastic Premium without an Azure Files
// share (Azure Files takes only a key, and this storage account has shared keys off) must run from a package in
// blob storage: a zip deploy's remote build would leave the built files on the one instance that built them, so a
// restarted or added instance would serve no functions and run no worker. Microsoft's "Create an app without Azure
// Files" (learn.microsoft.com/azure/azure-functions/storage-considerations) names WEBSITE_RUN_FROM_PACKAGE set to
// the package's URL, and "Run your functions from a package file" (run-functions-from-deployment-package) adds
// WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID so the platform fetches it with the user-assigned identity. The
// package is built with Linux x86-64 wheels and uploaded by scripts/release_package.py (azure.yaml's postdeploy
// hook); no SCM_DO_BUILD_DURING_DEPLOYMENT / ENABLE_ORYX_BUILD, since nothing is built on the instance.
var elasticPremiumSettings = {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'python'
  WEBSITE_RUN_FROM_PACKAGE: packageUrl
  WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID: identityId
}

resource appSettings 'Microsoft.Web/sites/config@2025-05-01' = {
  //checkov:skip=CKV_AZURE_13: callers authenticate with function keys; App Service Authentication would also block the anonymous health probe
  //checkov:skip=CKV_AZURE_63: request logs go to Application Insights; App Service HTTP logs do not apply to Functions
  //checkov:skip=CKV_AZURE_65: detailed error pages do not apply to a JSON API whose failures go to Application Insights
  //checkov:skip=CKV_AZURE_66: failed-request traces go to Application Insights
  //checkov:skip=CKV_AZURE_80: the app runs Python, not .NET Framework
  //checkov:skip=CKV_AZURE_88: the app keeps no files: durable state lives in the scheduler, the package in blob storage
  //checkov:skip=CKV_AZURE_222: this resource holds app settings; the site's network access is set (and explained) on the site
  parent: site
  name: 'appsettings'
  properties: isFlex ? appSettings : union(appSettings, elasticPremiumSettings)
  // Two config writes under one site race (ARM conflicts or drops settings); azd's own core/host/appservice.bicep
  // orders its two (`logs` dependsOn `appsettings`) for the same reason. Here the settings wait for the `web`
  // configuration; on Flex that resource is not deployed, and ARM drops a dependency on a resource whose condition
  // is false.
  dependsOn: [premiumWebConfig]
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostName}'
