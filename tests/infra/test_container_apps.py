"""The ContainerApps hosting plan: a Functions app on Azure Container Apps that scales on the scheduler's backlog.

Bodies come from the evaluated templates (what ARM would receive for given parameters); the wiring of values only
Azure knows (ids, endpoints) is read from the parsed trees, where the reference names are still visible.
"""

from __future__ import annotations

import json
from typing import Any

from tests.infra.bicep_eval import ResourceBody, deployment, main_output
from tests.infra.conftest import INFRA, resource_config, variable

BASE = {"environmentName": "dev", "location": "northeurope", "hostingPlan": "ContainerApps"}
SCALER = "azure-durabletask-scheduler"
# The first API version with properties.template.scale.allowScalingRuleOverride.
FIRST_OVERRIDE_API = "2026-03-02-preview"
# The keys of the KEDA azure-durabletask-scheduler scaler (Microsoft's "Configure autoscaling for Durable Task SDK
# apps hosted in Azure Container Apps"): scheduler endpoint, task hub, work item kind, and items per replica.
SCALER_METADATA = {"endpoint", "taskhubName", "workItemType", "maxConcurrentWorkItemsCount"}


def reference(node: Any) -> str:
    """A parsed property access such as ``identity.outputs.id`` written back as text."""
    if isinstance(node, str):
        return node
    operands = node["operator"]["operands"]
    return f"{reference(operands['operand_1'])}.{reference(operands['operand_2'])}"


def main_passes(bicep: dict[str, dict[str, Any]], param: str) -> str:
    return reference(resource_config(bicep["main.bicep"]["modules"]["containerApp"])["params"][param])


def bodies(**params: Any) -> dict[str, ResourceBody]:
    return {body.symbol: body for body in deployment({**BASE, **params}) if body.file == "modules/container-app.bicep"}


def scale_step(**params: Any) -> ResourceBody:
    """The second write of the container app: the one that carries the override and the rules."""
    found = [body for body in deployment({**BASE, **params}) if body.file == "modules/container-app-scale.bicep"]
    assert [body.type for body in found] == ["Microsoft.App/containerApps"]
    return found[0]


def scale(**params: Any) -> dict[str, Any]:
    return scale_step(**params).body["properties"]["template"]["scale"]


def test_the_app_is_a_functions_app_at_an_api_version_that_lets_its_rules_replace_the_platforms() -> None:
    for app in (bodies()["containerApp"], scale_step()):
        assert app.body["kind"] == "functionapp"
        assert app.api_version >= FIRST_OVERRIDE_API
    assert scale()["allowScalingRuleOverride"] is True


def test_the_app_is_created_without_the_override_and_given_it_by_a_second_dependent_write(
    bicep: dict[str, dict[str, Any]],
) -> None:
    """Microsoft documents allowScalingRuleOverride as an update of an existing Functions app
    (container-apps/functions-scale-rule-override): the first write is platform-managed scaling."""
    created = bodies(containerMinReplicas=2, containerMaxReplicas=30)["containerApp"].body
    updated = scale_step(containerMinReplicas=2, containerMaxReplicas=30).body
    assert created["properties"]["template"]["scale"] == {
        "minReplicas": 2,
        "maxReplicas": 30,
        "allowScalingRuleOverride": False,
        "rules": [],
    }
    without_scale = {key: value for key, value in updated["properties"].items() if key != "template"}
    assert without_scale == {key: value for key, value in created["properties"].items() if key != "template"}
    assert updated["properties"]["template"]["containers"] == created["properties"]["template"]["containers"]
    assert {key: updated[key] for key in ("kind", "location", "tags")} == {
        key: created[key] for key in ("kind", "location", "tags")
    }
    # The module takes the created app's name: ARM starts it only once the create has finished.
    module = resource_config(bicep["modules/container-app.bicep"]["modules"]["backlogScaling"])
    assert reference(module["params"]["name"]) == "containerApp.name"


def test_a_re_provision_switches_back_to_platform_scaling_by_clearing_the_rules() -> None:
    """On a second `azd provision` the app already has the override and its rules. Going back to platform-managed
    scaling with custom rules in place is refused (FunctionAppCannotSetScaleRules) unless the body says `rules: []`:
    the first write says both, explicitly, whatever the app held; the second puts the override and rules back."""
    first = bodies()["containerApp"].body["properties"]["template"]["scale"]
    assert first["allowScalingRuleOverride"] is False
    assert "rules" in first and first["rules"] == []
    second = scale()
    assert second["allowScalingRuleOverride"] is True
    assert len(second["rules"]) == 4 and second["rules"][0]["name"] == "http"


def test_replicas_and_every_target_come_from_the_parameters() -> None:
    rules = scale(
        containerMinReplicas=2,
        containerMaxReplicas=30,
        httpConcurrentRequests=40,
        orchestrationWorkItemsPerReplica=7,
        activityWorkItemsPerReplica=11,
        entityWorkItemsPerReplica=13,
    )
    assert (rules["minReplicas"], rules["maxReplicas"]) == (2, 30)
    http = [rule for rule in rules["rules"] if "http" in rule]
    assert http == [{"name": "http", "http": {"metadata": {"concurrentRequests": "40"}}}]
    backlog = {
        rule["custom"]["metadata"]["workItemType"]: rule["custom"]["metadata"]["maxConcurrentWorkItemsCount"]
        for rule in rules["rules"]
        if "custom" in rule
    }
    assert backlog == {"Orchestration": "7", "Activity": "11", "Entity": "13"}


def test_the_backlog_rules_use_the_schedulers_scaler_with_the_apps_identity() -> None:
    rules = [rule for rule in scale()["rules"] if "custom" in rule]
    assert len(rules) == 3
    for rule in rules:
        assert rule["custom"]["type"] == SCALER
        assert set(rule["custom"]["metadata"]) == SCALER_METADATA
        assert "auth" not in rule["custom"]  # no secret: the managed identity authenticates the scaler


def test_the_scaler_reads_this_templates_scheduler_and_task_hub_as_the_user_assigned_identity(
    bicep: dict[str, dict[str, Any]],
) -> None:
    module = bicep["modules/container-app.bicep"]
    rule = variable(module, "schedulerRules")["config"]["custom"]
    assert (rule["identity"], rule["metadata"]["endpoint"], rule["metadata"]["taskhubName"]) == (
        "identityId",
        "schedulerEndpoint",
        "taskHubName",
    )
    assert main_passes(bicep, "identityId") == "identity.outputs.id"
    assert main_passes(bicep, "schedulerEndpoint") == "scheduler.outputs.endpoint"
    assert main_passes(bicep, "taskHubName") == "scheduler.outputs.taskHubName"
    app = resource_config(module["resources"]["containerApp"])
    assert app["identity"]["type"] == "UserAssigned"
    assert variable(module, "appProperties")["configuration"]["registries"][0]["identity"] == "identityId"


def test_the_container_gets_the_same_settings_as_the_function_app_plus_durable_function_keys() -> None:
    env = bodies()["containerApp"].body["properties"]["template"]["containers"][0]["env"]
    settings = {entry["name"]: entry["value"] for entry in env}
    flex = next(
        body
        for body in deployment({**BASE, "hostingPlan": "FlexConsumption"})
        if body.type == "Microsoft.Web/sites/config" and body.name == "appsettings"
    )
    assert settings.pop("AzureWebJobsSecretStorageType") == "blob"
    assert settings == flex.body["properties"]


def test_the_image_is_the_one_azd_deployed_or_a_placeholder_before_the_first_deploy() -> None:
    def image(**params: Any) -> str:
        return bodies(**params)["containerApp"].body["properties"]["template"]["containers"][0]["image"]

    assert image().startswith("mcr.microsoft.com/azure-functions/")
    deployed = "crabc.azurecr.io/durable-fan-out-counters/api-containerapp-dev:azd-deploy-1"
    assert image(containerImage=deployed) == deployed
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    # azd writes SERVICE_<service name, upper case, '-' as '_'>_IMAGE_NAME after each deploy.
    assert parameters["containerImage"] == {"value": "${SERVICE_API_CONTAINERAPP_IMAGE_NAME}"}


def test_the_registry_admits_identities_only(bicep: dict[str, dict[str, Any]]) -> None:
    registry = bodies()["registry"].body["properties"]
    assert (registry["adminUserEnabled"], registry["anonymousPullEnabled"]) == (False, False)
    outputs = bicep["main.bicep"]["outputs"]
    assert "AZURE_CONTAINER_REGISTRY_ENDPOINT" in outputs  # where azd pushes the image it builds
    assert main_output("AZURE_CONTAINER_REGISTRY_ENDPOINT", {**BASE, "hostingPlan": "FlexConsumption"}) == ""


def test_the_environment_leaves_through_the_nat_gateway_subnet(bicep: dict[str, dict[str, Any]]) -> None:
    environment = bodies()["environment"].body["properties"]
    assert environment["workloadProfiles"] == [{"name": "Consumption", "workloadProfileType": "Consumption"}]
    assert environment["vnetConfiguration"]["internal"] is False
    assert bodies()["containerApp"].body["properties"]["workloadProfileName"] == "Consumption"
    module = bicep["modules/container-app.bicep"]
    vnet_configuration = resource_config(module["resources"]["environment"])["properties"]["vnetConfiguration"]
    assert vnet_configuration["infrastructureSubnetId"] == "subnetId"
    assert main_passes(bicep, "subnetId") == "network.outputs.subnetId"
    vnet = next(body for body in deployment(BASE) if body.type == "Microsoft.Network/virtualNetworks")
    subnet = vnet.body["properties"]["subnets"][0]["properties"]
    assert subnet["delegations"] == [{"name": "functions", "properties": {"serviceName": "Microsoft.App/environments"}}]
    assert subnet["defaultOutboundAccess"] is False


def test_environment_logs_reach_log_analytics_without_its_shared_key(bicep: dict[str, dict[str, Any]]) -> None:
    found = bodies()
    assert found["environment"].body["properties"]["appLogsConfiguration"] == {"destination": "azure-monitor"}
    assert "sharedkey" not in json.dumps(bicep["modules/container-app.bicep"]).lower()
    logs = found["environmentLogs"].body["properties"]
    assert logs["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    module = bicep["modules/container-app.bicep"]
    assert resource_config(module["resources"]["environmentLogs"])["properties"]["workspaceId"] == (
        "logAnalyticsWorkspaceId"
    )
    assert main_passes(bicep, "logAnalyticsWorkspaceId") == "monitoring.outputs.logAnalyticsWorkspaceId"


def test_no_scale_target_asks_a_replica_for_more_than_its_worker_admits(bicep: dict[str, dict[str, Any]]) -> None:
    """Each rule's items per replica stays within the worker's DTS_MAX_CONCURRENT_* for that kind, by default."""
    parameters = bicep["main.bicep"]["parameters"]

    def default(name: str) -> int:
        return parameters[name]["default"]

    assert default("orchestrationWorkItemsPerReplica") <= default("maxConcurrentOrchestrations")
    assert default("activityWorkItemsPerReplica") <= default("maxConcurrentActivities")
    assert default("activityWorkItemsPerReplica") <= default("maxActivityThreads")
    assert default("entityWorkItemsPerReplica") <= default("maxConcurrentEntities")
    assert parameters["containerMinReplicas"]["default"] == 1  # warm API and worker unless asked for zero
