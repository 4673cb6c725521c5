"""Every resource body of one `azd up`, per hosting plan, against Azure's own API models and the service rules.

The bodies come from the parsed templates (tests/infra/bicep_eval.py); the Azure management SDKs in .venv-infra
check them (tests/infra/arm_models.py), at the API version each resource declares. Rules a model cannot express
(what Flex Consumption refuses, the allow-list, the deployer's principal type) are asserted here.
"""

from __future__ import annotations

import copy
import json
import subprocess
from typing import Any

import pytest

from tests.infra.bicep_eval import Opaque, ResourceBody, deployment, main_output, main_variable, to_json
from tests.infra.conftest import INFRA, resource_config, variable
from tests.infra.test_container_apps import reference

INFRA_PYTHON = INFRA.parent / ".venv-infra" / "bin" / "python"
CHECKER = INFRA.parent / "tests" / "infra" / "arm_models.py"
PLANS = ("FlexConsumption", "ElasticPremium", "ContainerApps")
BASE = {"environmentName": "dev", "location": "northeurope"}

# Microsoft's "Flex Consumption plan deprecations" (learn.microsoft.com/azure/azure-functions/functions-app-settings),
# plus the site properties ARM error 51021 names: none may appear anywhere in a Flex site's body or settings.
FLEX_REFUSED_SITE_PROPERTIES = {
    "alwaysOn",
    "containerSize",
    "dnsConfiguration",
    "ftpsState",
    "isReserved",
    "isXenon",
    "javaVersion",
    "linuxFxVersion",
    "netFrameworkVersion",
    "powerShellVersion",
    "functionAppScaleLimit",
    "preWarmedInstanceCount",
    "use32BitWorkerProcess",
    "vnetBackupRestoreEnabled",
    "vnetContentShareEnabled",
    "vnetImagePullEnabled",
    "vnetRouteAllEnabled",
    "windowsFxVersion",
    "functionsRuntimeScaleMonitoringEnabled",
    "minimumElasticInstanceCount",
}
# Site features Flex Consumption does not support, so never sent to it: the App Service health check.
FLEX_UNSUPPORTED_SITE_PROPERTIES = {"healthCheckPath"}
FLEX_REFUSED_APP_SETTINGS = {
    "ENABLE_ORYX_BUILD",
    "FUNCTIONS_EXTENSION_VERSION",
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_WORKER_RUNTIME_VERSION",
    "FUNCTIONS_MAX_HTTP_CONCURRENCY",
    "FUNCTIONS_WORKER_PROCESS_COUNT",
    "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTOVERVNET",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_DNS_SERVER",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
    "WEBSITE_NODE_DEFAULT_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_SKIP_CONTENTSHARE_VALIDATION",
    "WEBSITE_VNET_ROUTE_ALL",
}

# Deliberately broken copies of real bodies, with the problem the checker must report: its silence on the real
# bodies proves nothing unless it names each kind of fault.
BROKEN = {
    "unknown property": (
        "modules/function-app.bicep:site", ("properties", "siteConfig"), "bogusSetting", 1,
        "properties.siteConfig.bogusSetting: unknown property",
    ),
    "wrong type": (
        "modules/function-app.bicep:site", ("properties",), "httpsOnly", "yes",
        "properties.httpsOnly: expected bool, got str 'yes'",
    ),
    "read-only property": (
        "modules/scheduler.bicep:scheduler", ("properties",), "endpoint", "https://x",
        "properties.endpoint: read-only property sent",
    ),
    "missing required property": (
        "modules/scheduler.bicep:scheduler", ("properties",), "ipAllowlist", None,
        "properties.ipAllowlist: required property missing",
    ),
    "unknown property, msrest model": (
        "modules/scheduler.bicep:appAccess", ("properties",), "principalKind", "User",
        "properties.principalKind: unknown property",
    ),
    "missing required property, msrest model": (
        "modules/scheduler.bicep:appAccess", ("properties",), "principalId", None,
        "properties.principalId: required property missing",
    ),
}  # fmt: skip
BROKEN_CONTAINER_APPS = {
    "misspelt scale override": (
        "modules/container-app.bicep:containerApp", ("properties", "template", "scale"), "allowScalingRuleOverrides",
        True, "properties.template.scale.allowScalingRuleOverrides: unknown property",
    ),
    "scale rule metadata not a string": (
        "modules/container-app-scale.bicep:containerApp", ("properties", "template", "scale", "rules", 1, "custom",
        "metadata"), "maxConcurrentWorkItemsCount", 100,
        "properties.template.scale.rules[1].custom.metadata.maxConcurrentWorkItemsCount: expected str, got int 100",
    ),
}  # fmt: skip


def resources(plan: str, **params: Any) -> list[ResourceBody]:
    return deployment({**BASE, "hostingPlan": plan, **params})


def by_symbol(bodies: list[ResourceBody]) -> dict[str, ResourceBody]:
    return {f"{body.file}:{body.symbol}": body for body in bodies}


def request(key: str, body: ResourceBody, content: dict[str, Any]) -> dict[str, Any]:
    name = body.name if isinstance(body.name, str) else ""
    return {"key": key, "type": body.type, "apiVersion": body.api_version, "name": name, "body": to_json(content)}


def broken(body: ResourceBody, path: tuple[str | int, ...], key: str, value: Any) -> dict[str, Any]:
    content = copy.deepcopy(body.body)
    target = content
    for part in path:
        target = target[part]
    if value is None:
        del target[key]
    else:
        target[key] = value
    return content


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """The checker's verdict on every body of both plans and on the broken copies, from one run of the infra venv."""
    assert INFRA_PYTHON.exists(), "the infra venv is missing: run `make infra-tools`"
    requests = []
    for plan in PLANS:
        for key, body in by_symbol(resources(plan)).items():
            requests.append(request(f"{plan}:{key}", body, body.body))
    flex = by_symbol(resources("FlexConsumption"))
    for fault, (symbol, path, key, value, _) in BROKEN.items():
        requests.append(request(f"broken:{fault}", flex[symbol], broken(flex[symbol], path, key, value)))
    container_apps = by_symbol(resources("ContainerApps"))
    for fault, (symbol, path, key, value, _) in BROKEN_CONTAINER_APPS.items():
        body = container_apps[symbol]
        requests.append(request(f"broken:{fault}", body, broken(body, path, key, value)))
    run = subprocess.run(
        [str(INFRA_PYTHON), str(CHECKER)], input=json.dumps(requests), capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize("plan", PLANS)
def test_every_body_matches_its_sdk_model_at_its_api_version(report: dict[str, Any], plan: str) -> None:
    bodies = by_symbol(resources(plan))
    assert len(bodies) >= 18
    for key, body in bodies.items():
        verdict = report[f"{plan}:{key}"]
        assert verdict["problems"] == [], verdict
        assert body.api_version == verdict["sdkApiVersion"], (key, verdict["model"])


@pytest.mark.parametrize("fault", [*BROKEN, *BROKEN_CONTAINER_APPS])
def test_the_checker_names_each_kind_of_fault(report: dict[str, Any], fault: str) -> None:
    problems = report[f"broken:{fault}"]["problems"]
    assert len(problems) == 1
    assert problems[0].endswith({**BROKEN, **BROKEN_CONTAINER_APPS}[fault][-1])


def keys_anywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {key for key in value} | {k for item in value.values() for k in keys_anywhere(item)}
    if isinstance(value, list):
        return {k for item in value for k in keys_anywhere(item)}
    return set()


def flex_violations(bodies: list[ResourceBody]) -> set[str]:
    """What Flex Consumption refuses, found anywhere in the bodies sent to a Flex site."""
    refused_properties = {name.lower() for name in FLEX_REFUSED_SITE_PROPERTIES | FLEX_UNSUPPORTED_SITE_PROPERTIES}
    found = set()
    for body in bodies:
        if body.type == "Microsoft.Web/sites" or (body.type == "Microsoft.Web/sites/config" and body.name == "web"):
            found |= {key for key in keys_anywhere(body.body) if key.lower() in refused_properties}
        if body.type == "Microsoft.Web/sites/config" and body.name == "appsettings":
            found |= set(body.body["properties"]) & FLEX_REFUSED_APP_SETTINGS
    return found


def test_flex_site_is_sent_only_what_flex_accepts() -> None:
    bodies = resources("FlexConsumption")
    assert flex_violations(bodies) == set()
    site = next(body for body in bodies if body.type == "Microsoft.Web/sites")
    assert site.body["properties"]["functionAppConfig"]["runtime"] == {"name": "python", "version": "3.13"}
    assert site.body["properties"]["siteConfig"] == {
        "minTlsVersion": "1.2",
        "scmMinTlsVersion": "1.2",
        "http20Enabled": True,
    }


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_each_python_version_reaches_both_function_app_plans(version: str) -> None:
    """Flex takes the version in functionAppConfig's runtime, Elastic Premium in its Linux site's linuxFxVersion."""
    flex = by_symbol(resources("FlexConsumption", pythonVersion=version))["modules/function-app.bicep:site"]
    assert flex.body["properties"]["functionAppConfig"]["runtime"] == {"name": "python", "version": version}
    premium = by_symbol(resources("ElasticPremium", pythonVersion=version))
    web = premium["modules/function-app.bicep:premiumWebConfig"].body["properties"]
    assert web["linuxFxVersion"] == f"Python|{version}"


def test_the_flex_rule_would_catch_the_elastic_premium_body() -> None:
    """The same check on the Elastic Premium deployment finds the keys Flex refuses: the rule is not vacuous."""
    found = flex_violations(resources("ElasticPremium"))
    assert {"ftpsState", "linuxFxVersion", "functionAppScaleLimit", "vnetRouteAllEnabled", "healthCheckPath"} <= found
    assert {"FUNCTIONS_WORKER_RUNTIME", "WEBSITE_RUN_FROM_PACKAGE"} <= found


def test_elastic_premium_runs_from_a_package_blob_fetched_with_the_apps_identity(
    bicep: dict[str, dict[str, Any]],
) -> None:
    """No content share and no build on the instance: every instance runs the same package from blob storage."""
    bodies = by_symbol(resources("ElasticPremium"))
    settings = bodies["modules/function-app.bicep:appSettings"].body["properties"]
    assert (settings["FUNCTIONS_WORKER_RUNTIME"], settings["FUNCTIONS_EXTENSION_VERSION"]) == ("python", "~4")
    assert not {name for name in settings if name.startswith("WEBSITE_CONTENT")}
    assert not {"SCM_DO_BUILD_DURING_DEPLOYMENT", "ENABLE_ORYX_BUILD"} & set(settings)
    module = bicep["modules/function-app.bicep"]
    written = variable(module, "elasticPremiumSettings")
    assert written["WEBSITE_RUN_FROM_PACKAGE"] == "packageUrl"
    assert written["WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID"] == "identityId"
    passed = resource_config(bicep["main.bicep"]["modules"]["functionApp"])["params"]
    assert reference(passed["packageUrl"]) == "storage.outputs.packageUrl"
    assert reference(passed["identityId"]) == "identity.outputs.id"  # the identity holding Storage Blob Data Owner
    storage_outputs = bicep["modules/storage.bicep"]["outputs"]
    assert "${deploymentContainerName}/${packageBlobName}" in json.dumps(storage_outputs["packageUrl"]["value"])
    web = bodies["modules/function-app.bicep:premiumWebConfig"].body["properties"]
    assert (web["linuxFxVersion"], web["ftpsState"], web["vnetRouteAllEnabled"]) == ("Python|3.13", "Disabled", True)
    assert bodies["modules/function-app.bicep:site"].body["properties"]["functionAppConfig"] is None


def test_the_package_release_runs_after_deploy_only_on_elastic_premium() -> None:
    """azd zip-deploys Flex only: Kudu refuses a zip deploy while WEBSITE_RUN_FROM_PACKAGE is a URL."""
    flags = ("DEPLOY_FUNCTION_APP", "DEPLOY_CONTAINER_APP", "DEPLOY_RUN_FROM_PACKAGE")
    outputs = {plan: tuple(main_output(flag, {**BASE, "hostingPlan": plan}) for flag in flags) for plan in PLANS}
    assert outputs == {
        "FlexConsumption": (True, False, False),
        "ElasticPremium": (False, False, True),
        "ContainerApps": (False, True, False),
    }
    assert main_output("AZURE_FUNCTION_APP_PACKAGE_URL", {**BASE, "hostingPlan": "FlexConsumption"}) == ""


@pytest.mark.parametrize("plan", PLANS)
def test_the_deployer_may_write_the_package_container_on_elastic_premium_alone(plan: str) -> None:
    """Shared keys are off, so the upload is Entra ID: a data role on the one container, for the one plan."""
    principal = "00000000-0000-0000-0000-000000000002"
    bodies = by_symbol(resources(plan, principalId=principal, principalType="ServicePrincipal"))
    uploader = bodies.get("modules/storage.bicep:packageUploader")
    if plan != "ElasticPremium":
        assert uploader is None
        return
    assert uploader is not None
    access = uploader.body["properties"]
    assert (access["principalId"], access["principalType"]) == (principal, "ServicePrincipal")
    assert "modules/storage.bicep:packageUploader" not in by_symbol(resources(plan, principalId=""))


def test_the_uploader_role_is_blob_data_contributor_on_the_package_container(bicep: dict[str, dict[str, Any]]) -> None:
    module = bicep["modules/storage.bicep"]
    assert variable(module, "storageBlobDataContributor") == "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    assert resource_config(module["resources"]["packageUploader"])["scope"] == "deploymentContainer"


def test_elastic_premium_settings_wait_for_the_web_configuration(bicep: dict[str, dict[str, Any]]) -> None:
    """Two config writes under one site must not race; ARM drops the dependency on Flex, where `web` is not deployed."""
    resources_ = bicep["modules/function-app.bicep"]["resources"]
    assert resource_config(resources_["appSettings"])["dependsOn"] == ["premiumWebConfig"]
    assert resources_["premiumWebConfig"]["config"]["condition"] is not None


def test_each_plan_is_bounded_by_its_own_instance_limit(bicep: dict[str, dict[str, Any]]) -> None:
    """Flex Consumption's maximum is 40 to 1,000 (functionAppStacks' FC1 `maximumInstanceCount`: lowest 40,
    highest 1000, default 100), a Linux Premium plan's 20-100 by region (functions-scale)."""
    parameters = bicep["main.bicep"]["parameters"]
    flex = parameters["maximumInstanceCount"]["decorators"]
    premium = parameters["elasticPremiumMaximumInstanceCount"]
    assert {"type": "min_value", "argument": 40} in flex
    assert {"type": "max_value", "argument": 1000} in flex
    assert not [decorator for decorator in flex if decorator["type"] == "min_value" and decorator["argument"] < 40]
    assert parameters["maximumInstanceCount"]["default"] == 100
    assert {"type": "max_value", "argument": 100} in premium["decorators"]
    assert premium["default"] == 20
    bodies = by_symbol(resources("ElasticPremium", elasticPremiumMaximumInstanceCount=30, maximumInstanceCount=500))
    assert bodies["modules/function-app.bicep:plan"].body["properties"]["maximumElasticWorkerCount"] == 30
    assert bodies["modules/function-app.bicep:premiumWebConfig"].body["properties"]["functionAppScaleLimit"] == 30
    flex_site = by_symbol(resources("FlexConsumption", maximumInstanceCount=500))["modules/function-app.bicep:site"]
    assert flex_site.body["properties"]["functionAppConfig"]["scaleAndConcurrency"]["maximumInstanceCount"] == 500


def test_the_dashboard_url_is_the_task_hubs_own(bicep: dict[str, dict[str, Any]]) -> None:
    outputs = bicep["modules/scheduler.bicep"]["outputs"]
    assert reference(outputs["dashboardUrl"]["value"]) == "taskHub.properties.dashboardUrl"
    assert reference(bicep["main.bicep"]["outputs"]["DTS_DASHBOARD_URL"]["value"]) == "scheduler.outputs.dashboardUrl"
    probe = subprocess.run(
        [
            str(INFRA_PYTHON),
            "-c",
            "from azure.mgmt.durabletask.models import TaskHubProperties as T; f = vars(T)['dashboard_url'];"
            "print(f._rest_name_input, f._visibility)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert probe.stdout.split(None, 1) == ["dashboardUrl", "['read']\n"]


@pytest.mark.parametrize(
    ("plan", "service"),
    [
        ("FlexConsumption", ("Microsoft.Web/sites", "api")),
        ("ElasticPremium", ("Microsoft.Web/sites", "api")),
        ("ContainerApps", ("Microsoft.App/containerApps", "api-containerapp")),
    ],
)
def test_only_the_app_carries_the_azd_service_name_tag(plan: str, service: tuple[str, str]) -> None:
    """azd deploys a service to the one resource tagged with its name; azure.yaml enables that service alone."""
    tagged = [body for body in resources(plan) if "azd-service-name" in (body.body.get("tags") or {})]
    # The container app is written twice (created, then given its scale rules): one resource, one tag.
    assert {(body.type, body.body["tags"]["azd-service-name"]) for body in tagged} == {service}
    assert {body.symbol for body in tagged} == {"site" if service[1] == "api" else "containerApp"}


def scheduler_allow_list(**params: Any) -> list[Any]:
    bodies = by_symbol(resources("FlexConsumption", **params))
    return bodies["modules/scheduler.bicep:scheduler"].body["properties"]["ipAllowlist"]


def test_the_scheduler_admits_only_the_app_nat_ip_by_default() -> None:
    assert scheduler_allow_list() == [Opaque("string")]
    assert main_variable("extraAllowedIpRanges", {"schedulerAllowedIpRanges": ""}) == []


def test_empty_allow_list_entries_are_dropped() -> None:
    given = " 203.0.113.7, ,198.51.100.0/24,,"
    assert main_variable("extraAllowedIpRanges", {"schedulerAllowedIpRanges": given}) == [
        "203.0.113.7",
        "198.51.100.0/24",
    ]
    assert scheduler_allow_list(schedulerAllowedIpRanges=given) == [Opaque("string"), "203.0.113.7", "198.51.100.0/24"]


@pytest.mark.parametrize("principal_type", ["User", "ServicePrincipal"])
def test_the_deployer_role_uses_the_principal_type_azd_reports(principal_type: str) -> None:
    bodies = by_symbol(resources("FlexConsumption", principalId="00000000-0000-0000-0000-000000000001",
                                 principalType=principal_type))  # fmt: skip
    access = bodies["modules/scheduler.bicep:userAccess"].body["properties"]
    assert (access["principalId"], access["principalType"]) == ("00000000-0000-0000-0000-000000000001", principal_type)
    assert "modules/scheduler.bicep:userAccess" not in by_symbol(resources("FlexConsumption", principalId=""))
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert parameters["principalId"] == {"value": "${AZURE_PRINCIPAL_ID}"}
    assert parameters["principalType"] == {"value": "${AZURE_PRINCIPAL_TYPE=User}"}
