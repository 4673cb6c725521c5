// Storage for the host (AzureWebJobsStorage) and the deployment package (Flex's, or the blob an Elastic Premium app
// runs from), reached only by identity.
param name string
param location string
param tags object
param identityPrincipalId string
@description('Object id of whoever uploads the Elastic Premium package (azd\'s AZURE_PRINCIPAL_ID); empty grants nothing')
param uploaderPrincipalId string
@allowed(['User', 'ServicePrincipal', 'Group'])
param uploaderPrincipalType string
@description('Elastic Premium only: the uploader gets write access to the package container')
param grantUpload bool

var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var deploymentContainerName = 'app-package'
// The one blob an Elastic Premium app runs from: a fixed name, so a new provision keeps WEBSITE_RUN_FROM_PACKAGE
// pointing at the package the last deploy uploaded.
var packageBlobName = 'function-app.zip'

resource account 'Microsoft.Storage/storageAccounts@2026-09-01' = {
  //checkov:skip=CKV_AZURE_35: the Functions host and the platform's deployment service reach storage over its public endpoint; shared keys are off so only identities with a data role get in. Add storage private endpoints in the VNet to deny the rest
  //checkov:skip=CKV_AZURE_59: same reason as CKV_AZURE_35; anonymous blob access is off (allowBlobPublicAccess false)
  //checkov:skip=CKV_AZURE_206: holds only the deployment package and host leases, both recreated by a deploy; the durable state lives in the scheduler
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2026-09-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-09-01' = {
  parent: blobs
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, identityPrincipalId, storageBlobDataOwner)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Shared keys are off, so the upload authenticates with Entra ID (`az storage blob upload --auth-mode login`); the
// role is scoped to the package container alone.
resource packageUploader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantUpload && !empty(uploaderPrincipalId)) {
  name: guid(deploymentContainer.id, uploaderPrincipalId, storageBlobDataContributor)
  scope: deploymentContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: uploaderPrincipalId
    principalType: uploaderPrincipalType
  }
}

output name string = account.name
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainerName}'
output packageUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainerName}/${packageBlobName}'
