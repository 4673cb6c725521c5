// The Function App's network: a VNet whose app subnet sends all outbound traffic through a NAT gateway with one
// static public IP. The scheduler's allow-list is given that IP by the template itself, so the hosted worker
// connects on the first deploy while the scheduler stays closed to everyone else.
param vnetName string
param natGatewayName string
param publicIpName string
param securityGroupName string
param location string
param tags object
@description('Flex Consumption integrates through a subnet delegated to Microsoft.App/environments, Elastic Premium through Microsoft.Web/serverFarms')
param delegation string
@description('Minutes a quiet TCP flow (such as the worker\'s work-item stream) is kept before the NAT gateway drops it')
@minValue(4)
@maxValue(120)
param idleTimeoutInMinutes int

var subnetName = 'app'

resource publicIp 'Microsoft.Network/publicIPAddresses@2026-03-01' = {
  name: publicIpName
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Regional' }
  properties: {
    publicIPAllocationMethod: 'Static'
    publicIPAddressVersion: 'IPv4'
  }
}

resource natGateway 'Microsoft.Network/natGateways@2026-03-01' = {
  name: natGatewayName
  location: location
  tags: tags
  sku: { name: 'Standard' }
  properties: {
    idleTimeoutInMinutes: idleTimeoutInMinutes
    publicIpAddresses: [{ id: publicIp.id }]
  }
}

// No inbound rule: the subnet only carries the app's outbound traffic (the platform's defaults still apply).
resource securityGroup 'Microsoft.Network/networkSecurityGroups@2026-03-01' = {
  name: securityGroupName
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2026-03-01' = {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: ['10.0.0.0/16'] }
    subnets: [
      {
        name: subnetName
        properties: {
          addressPrefix: '10.0.0.0/24'
          defaultOutboundAccess: false
          natGateway: { id: natGateway.id }
          networkSecurityGroup: { id: securityGroup.id }
          delegations: [{ name: 'functions', properties: { serviceName: delegation } }]
        }
      }
    ]
  }
}

output subnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, subnetName)
output outboundIp string = publicIp.properties.ipAddress
