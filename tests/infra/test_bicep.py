"""The Bicep templates, read from their parsed trees: resources, role assignments, app settings, hardening."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.conftest import INFRA, resource_config, variable

DURABLE_TASK_DATA_CONTRIBUTOR = "0ad04412-c4d5-4796-b79c-f76d14c8d402"
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
ACR_PULL = "7f951dba-4ed6-4e5d-be0e-8ab1e1a4b1c2"

MODULES = {
    "identity": "modules/identity.bicep",
    "monitoring": "modules/monitoring.bicep",
    "storage": "modules/storage.bicep",
    "network": "modules/network.bicep",
    "scheduler": "modules/scheduler.bicep",
    "functionApp": "modules/function-app.bicep",
    "containerApp": "modules/container-app.bicep",
}


def resource_types(bicep: dict[str, dict[str, Any]]) -> set[str]:
    return {resource["type"] for tree in bicep.values() for resource in tree.get("resources", {}).values()}


def test_every_file_parses_and_main_wires_every_module(bicep: dict[str, dict[str, Any]]) -> None:
    # container-app-scale.bicep is the container app module's own second step, not wired by main.
    assert set(bicep) == {"main.bicep", *MODULES.values(), "modules/container-app-scale.bicep"}
    modules = bicep["main.bicep"]["modules"]
    assert {name: module["detail"]["path"] for name, module in modules.items()} == MODULES
    assert all(resource_config(module)["scope"] == "group" for module in modules.values())
    # Exactly one way of hosting the app deploys.
    assert modules["functionApp"]["config"]["condition"] == {
        "operator": {"type": "not", "operands": {"bool_value": "isContainerApps"}}
    }
    assert modules["containerApp"]["config"]["condition"] == "isContainerApps"


def test_the_resources_are_exactly_the_designed_set(bicep: dict[str, dict[str, Any]]) -> None:
    assert resource_types(bicep) == {
        "Microsoft.Resources/resourceGroups",
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.OperationalInsights/workspaces",
        "Microsoft.Insights/components",
        "Microsoft.Storage/storageAccounts",
        "Microsoft.Storage/storageAccounts/blobServices",
        "Microsoft.Storage/storageAccounts/blobServices/containers",
        "Microsoft.DurableTask/schedulers",
        "Microsoft.DurableTask/schedulers/taskHubs",
        "Microsoft.Web/serverfarms",
        "Microsoft.Web/sites",
        "Microsoft.Web/sites/config",
        "Microsoft.Authorization/roleAssignments",
        "Microsoft.Network/publicIPAddresses",
        "Microsoft.Network/natGateways",
        "Microsoft.Network/networkSecurityGroups",
        "Microsoft.Network/virtualNetworks",
        "Microsoft.ContainerRegistry/registries",
        "Microsoft.App/managedEnvironments",
        "Microsoft.App/containerApps",
        "Microsoft.Insights/diagnosticSettings",
    }


def role_assignments(bicep: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str, bool]]:
    """(file, role definition id, scope resource type, principal, conditional) of every role assignment."""
    found = []
    for file, tree in bicep.items():
        for resource in tree.get("resources", {}).values():
            if resource["type"] != "Microsoft.Authorization/roleAssignments":
                continue
            config = resource_config(resource)
            role_variable = config["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
            scope_type = tree["resources"][config["scope"]]["type"]
            principal = config["properties"]["principalId"]
            conditional = "condition" in resource["config"]
            found.append((file, variable(tree, role_variable), scope_type, principal, conditional))
    return found


def test_role_assignments_are_the_narrowest_that_work(bicep: dict[str, dict[str, Any]]) -> None:
    assert sorted(role_assignments(bicep)) == sorted(
        [
            ("modules/monitoring.bicep", MONITORING_METRICS_PUBLISHER, "Microsoft.Insights/components",
             "identityPrincipalId", False),
            ("modules/storage.bicep", STORAGE_BLOB_DATA_OWNER, "Microsoft.Storage/storageAccounts",
             "identityPrincipalId", False),
            ("modules/scheduler.bicep", DURABLE_TASK_DATA_CONTRIBUTOR, "Microsoft.DurableTask/schedulers/taskHubs",
             "identityPrincipalId", False),
            ("modules/scheduler.bicep", DURABLE_TASK_DATA_CONTRIBUTOR, "Microsoft.DurableTask/schedulers/taskHubs",
             "userPrincipalId", True),
            ("modules/container-app.bicep", ACR_PULL, "Microsoft.ContainerRegistry/registries",
             "identityPrincipalId", False),
            ("modules/storage.bicep", STORAGE_BLOB_DATA_CONTRIBUTOR,
             "Microsoft.Storage/storageAccounts/blobServices/containers", "uploaderPrincipalId", True),
        ]
    )  # fmt: skip


def test_app_settings_wire_the_scheduler_by_identity(bicep: dict[str, dict[str, Any]]) -> None:
    main = bicep["main.bicep"]
    settings = variable(main, "appSettings")
    assert set(settings) == {
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "PYTHON_ENABLE_OPENTELEMETRY",
        "AZURE_CLIENT_ID",
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
        "TASKHUB_NAME",
        "DTS_MAX_ACTIVITY_THREADS",
        "DTS_MAX_CONCURRENT_ACTIVITIES",
        "DTS_MAX_CONCURRENT_ORCHESTRATIONS",
        "DTS_MAX_CONCURRENT_ENTITIES",
        "PYTHON_ISOLATE_WORKER_DEPENDENCIES",
    }
    assert settings["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"] == (
        "Endpoint=${scheduler.outputs.endpoint};TaskHub=${scheduler.outputs.taskHubName};"
        "Authentication=ManagedIdentity;ClientID=${identity.outputs.clientId}"
    )
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        "ClientId=${identity.outputs.clientId};Authorization=AAD"
    )
    assert settings["PYTHON_ENABLE_OPENTELEMETRY"] == "true"
    # Both ways of hosting get the same settings.
    for module in ("functionApp", "containerApp"):
        assert resource_config(main["modules"][module])["params"]["appSettings"] == "appSettings"
    assert variable(bicep["modules/function-app.bicep"], "elasticPremiumSettings") == {
        "FUNCTIONS_EXTENSION_VERSION": "~4",
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "WEBSITE_RUN_FROM_PACKAGE": "packageUrl",
        "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID": "identityId",
    }


def test_no_key_or_secret_is_read_or_stored(bicep: dict[str, dict[str, Any]]) -> None:
    text = json.dumps(bicep).lower()
    for forbidden in ("listkeys", "accountkey", "instrumentationkey", "sharedaccesskey", "listsecrets"):
        assert forbidden not in text
    storage = resource_config(bicep["modules/storage.bicep"]["resources"]["account"])["properties"]
    assert (storage["allowSharedKeyAccess"], storage["allowBlobPublicAccess"]) == (False, False)
    insights = resource_config(bicep["modules/monitoring.bicep"]["resources"]["applicationInsights"])
    assert insights["properties"]["DisableLocalAuth"] is True


def test_the_site_is_locked_down_and_kept_warm(bicep: dict[str, dict[str, Any]]) -> None:
    app = bicep["modules/function-app.bicep"]
    site = resource_config(app["resources"]["site"])
    assert site["identity"]["type"] == "UserAssigned"
    assert site["properties"]["httpsOnly"] is True
    assert site["properties"]["virtualNetworkSubnetId"] == "subnetId"
    site_config = site["properties"]["siteConfig"]
    assert site_config["minTlsVersion"] == "1.2"
    # Health checks are probed on Elastic Premium only; Flex does not support them, so the shared site config
    # (the one Flex receives) leaves the path out.
    assert "healthCheckPath" not in site_config
    premium = resource_config(app["resources"]["premiumWebConfig"])["properties"]
    assert (premium["ftpsState"], premium["minTlsVersion"]) == ("Disabled", "1.2")
    assert premium["healthCheckPath"] == "/api/health"
    flex = variable(app, "flexConfig")
    assert flex["runtime"] == {"name": "python", "version": "pythonVersion"}
    assert flex["scaleAndConcurrency"]["alwaysReady"] == [{"name": "http", "instanceCount": "alwaysReadyInstances"}]
    assert flex["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    ready = bicep["main.bicep"]["parameters"]["alwaysReadyInstances"]
    assert {"type": "min_value", "argument": 1} in ready["decorators"]
    assert ready["default"] == 1


def test_python_version_offers_what_both_plans_list_and_defaults_to_the_newest(
    bicep: dict[str, dict[str, Any]],
) -> None:
    """3.11-3.13 (Microsoft's function app stacks list each for Flex and Linux Elastic Premium; the app needs
    3.11+), 3.13 by default, settable through azd as PYTHON_VERSION and handed to the Function App module."""
    parameter = bicep["main.bicep"]["parameters"]["pythonVersion"]
    allowed = next(d["argument"] for d in parameter["decorators"] if d["type"] == "allowed")
    assert allowed == ["3.11", "3.12", "3.13"]
    assert parameter["default"] == max(allowed, key=lambda version: tuple(map(int, version.split("."))))
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert parameters["pythonVersion"] == {"value": f"${{PYTHON_VERSION={parameter['default']}}}"}
    assert bicep["main.bicep"]["modules"]["functionApp"]["config"]["config"]["params"]["pythonVersion"] == (
        "pythonVersion"
    )


def test_the_scheduler_is_not_open_to_the_internet_by_default(bicep: dict[str, dict[str, Any]]) -> None:
    main = bicep["main.bicep"]
    allowed = main["parameters"]["schedulerAllowedIpRanges"]
    assert allowed["default"] == ""
    allow_list = main["modules"]["scheduler"]["config"]["params"]["ipAllowlist"]["function"]
    assert allow_list["parameters"] == {"arg_1": ["${network.outputs.outboundIp}/32"], "arg_2": "extraAllowedIpRanges"}
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert parameters["schedulerAllowedIpRanges"] == {"value": "${DTS_ALLOWED_IP_RANGES}"}
    assert "/0" not in json.dumps(parameters)
    scheduler = resource_config(bicep["modules/scheduler.bicep"]["resources"]["scheduler"])
    assert main["parameters"]["schedulerSku"]["default"] == "Consumption"
    assert scheduler["properties"]["ipAllowlist"] == "ipAllowlist"


def test_the_app_reaches_the_internet_only_through_the_nat_gateway(bicep: dict[str, dict[str, Any]]) -> None:
    network = bicep["modules/network.bicep"]["resources"]
    ip = resource_config(network["publicIp"])
    assert (ip["sku"]["name"], ip["properties"]["publicIPAllocationMethod"]) == ("Standard", "Static")
    subnet = resource_config(network["vnet"])["properties"]["subnets"][0]["properties"]
    assert subnet["defaultOutboundAccess"] is False
    assert subnet["natGateway"]["id"]["operator"]["operands"] == {"operand_1": "natGateway", "operand_2": "id"}
    delegation = bicep["main.bicep"]["modules"]["network"]["config"]["params"]["delegation"]["operator"]["operands"]
    assert (delegation["condition"], delegation["true_value"], delegation["false_value"]) == (
        "isElasticPremium",
        "Microsoft.Web/serverFarms",
        "Microsoft.App/environments",
    )


def test_location_offers_only_regions_with_flex_consumption_and_the_scheduler(bicep: dict[str, dict[str, Any]]) -> None:
    decorators = bicep["main.bicep"]["parameters"]["location"]["decorators"]
    assert {"type": "metadata", "argument": {"azd": {"type": "location"}}} in decorators
    allowed = next(d["argument"] for d in decorators if d["type"] == "allowed")
    assert allowed == [
        "australiaeast",
        "eastasia",
        "eastus",
        "eastus2",
        "northeurope",
        "southcentralus",
        "southeastasia",
        "swedencentral",
        "uksouth",
        "westus2",
    ]


def test_parameters_file_names_only_declared_parameters(bicep: dict[str, dict[str, Any]]) -> None:
    declared = bicep["main.bicep"]["parameters"]
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert set(parameters) <= set(declared)
    required = {name for name, spec in declared.items() if spec["default"] is None}
    assert required <= set(parameters)


def test_outputs_give_azd_what_it_needs(bicep: dict[str, dict[str, Any]]) -> None:
    assert {
        "AZURE_LOCATION",
        "AZURE_TENANT_ID",
        "AZURE_RESOURCE_GROUP",
        "AZURE_FUNCTION_APP_NAME",
        "AZURE_FUNCTION_APP_URL",
        "DTS_ENDPOINT",
        "DTS_TASKHUB_NAME",
        "DTS_DASHBOARD_URL",
        "DTS_OUTBOUND_IP",
    } <= set(bicep["main.bicep"]["outputs"])
    dashboard = bicep["modules/scheduler.bicep"]["outputs"]["dashboardUrl"]["value"]
    assert dashboard["operator"]["operands"]["operand_1"] == "taskHub"  # the task hub's own properties.dashboardUrl
