"""checkov over infra/, azure.yaml against what azd reads, and what .funcignore keeps out of the package."""

from __future__ import annotations

import json
import subprocess

import yaml
from pycep import BicepParser

from tests.infra.conftest import INFRA

ROOT = INFRA.parent
CHECKOV = ROOT / ".venv-infra" / "bin" / "checkov"

AZD_HOSTS = {"appservice", "containerapp", "function", "staticwebapp", "aks", "springapp", "ai.endpoint"}
AZD_LANGUAGES = {"dotnet", "csharp", "fsharp", "py", "python", "js", "ts", "java", "docker"}


def test_checkov_reports_no_failed_check() -> None:
    assert CHECKOV.exists(), "checkov is missing: run `make infra-tools`"
    scan = subprocess.run(
        [str(CHECKOV), "--framework", "bicep", "-d", str(INFRA), "--skip-download", "--compact", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(scan.stdout)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"], c["file_path"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped["check_result"].get("suppress_comment", "")) > 20, skipped["check_id"]


def test_azure_yaml_has_what_azd_reads() -> None:
    document = yaml.safe_load((ROOT / "azure.yaml").read_text())
    assert set(document) <= {
        "name",
        "requiredVersions",
        "metadata",
        "infra",
        "services",
        "hooks",
        "pipeline",
        "workflows",
    }
    # The first azd that forwards docker.buildArgs to a remote build (the image's Python depends on it).
    assert document["requiredVersions"] == {"azd": ">= 1.24.3"}
    assert document["name"]
    assert document["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    assert (INFRA / f"{document['infra']['module']}.bicep").exists()
    for service in document["services"].values():
        assert service["host"] in AZD_HOSTS
        assert service["language"] in AZD_LANGUAGES and service["language"] == "python"
        assert (ROOT / service["project"] / "function_app.py").exists()


def test_one_azure_yaml_deploys_whichever_plan_was_provisioned() -> None:
    """azd deploys a `host: function` service only to Microsoft.Web/sites and a `host: containerapp` service only
    to Microsoft.App/containerApps (pkg/project/service_target_*.go), so each plan has its service, switched on
    by a provision output through azd's service `condition`; provision runs before deploy so the flag is set."""
    document = yaml.safe_load((ROOT / "azure.yaml").read_text())
    services = document["services"]
    assert set(services) == {"api", "api-containerapp"}
    code, image = services["api"], services["api-containerapp"]
    assert (code["host"], code["condition"]) == ("function", "${DEPLOY_FUNCTION_APP}")
    assert "docker" not in code
    assert (image["host"], image["condition"]) == ("containerapp", "${DEPLOY_CONTAINER_APP}")
    outputs = BicepParser().parse(file_path=INFRA / "main.bicep")["outputs"]
    for flag in ("DEPLOY_FUNCTION_APP", "DEPLOY_CONTAINER_APP"):
        assert outputs[flag]["type"] == "bool"
    assert document["workflows"]["up"] == [{"azd": "provision"}, {"azd": "deploy --all"}]


def test_the_container_service_is_built_remotely_and_updated_at_the_templates_api_version() -> None:
    image = yaml.safe_load((ROOT / "azure.yaml").read_text())["services"]["api-containerapp"]
    assert image["docker"] == {
        "path": "Dockerfile",
        "remoteBuild": True,
        "buildArgs": ["PYTHON_VERSION=${PYTHON_VERSION=3.13}"],
    }
    assert (ROOT / image["project"] / image["docker"]["path"]).exists()
    assert "remoteBuild" not in image  # azd accepts only docker.remoteBuild for container services
    module = BicepParser().parse(file_path=INFRA / "modules" / "container-app.bicep")
    container_app = module["resources"]["containerApp"]
    # Without apiVersion azd rewrites the app through an SDK that may not know kind and allowScalingRuleOverride.
    assert image["apiVersion"] == container_app["api_version"]


def test_the_build_context_leaves_everything_but_the_app_out() -> None:
    patterns = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert patterns[0] == "*"
    assert {p.removeprefix("!").rstrip("/") for p in patterns if p.startswith("!")} == {
        "requirements.txt",
        "host.json",
        "function_app.py",
        "durable_app",
        "entities",
        "orchestrations",
    }


def test_the_package_keeps_the_app_and_leaves_the_tooling_out() -> None:
    ignored = {line.strip() for line in (ROOT / ".funcignore").read_text().splitlines()}
    assert {"tests/", "local_stack/", "bench/", "infra/", "docs/", ".venv*", "local.settings.json"} <= ignored
    assert {"pyproject.toml", "build/", "*.egg-info"} <= ignored  # azd restore's `pip install .` leaves build output
    assert {"Dockerfile", ".dockerignore"} <= ignored  # the container plan's build files stay out of the zip
    for needed in ("function_app.py", "host.json", "requirements.txt", "durable_app/", "entities/", "orchestrations/"):
        assert needed not in ignored
        assert (ROOT / needed.rstrip("/")).exists()
