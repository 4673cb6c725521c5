"""checkov over infra/, azure.yaml against what azd reads, and what .funcignore keeps out of the package."""

from __future__ import annotations

import json
import subprocess

import yaml

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
    assert set(document) <= {"name", "metadata", "infra", "services", "hooks", "pipeline", "workflows"}
    assert document["name"]
    assert document["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    assert (INFRA / f"{document['infra']['module']}.bicep").exists()
    service = document["services"]["api"]
    assert service["host"] in AZD_HOSTS and service["host"] == "function"
    assert service["language"] in AZD_LANGUAGES and service["language"] == "python"
    assert (ROOT / service["project"] / "function_app.py").exists()


def test_the_package_keeps_the_app_and_leaves_the_tooling_out() -> None:
    ignored = {line.strip() for line in (ROOT / ".funcignore").read_text().splitlines()}
    assert {"tests/", "local_stack/", "bench/", "infra/", "docs/", ".venv*", "local.settings.json"} <= ignored
    assert {"pyproject.toml", "build/", "*.egg-info"} <= ignored  # azd restore's `pip install .` leaves build output
    for needed in ("function_app.py", "host.json", "requirements.txt", "durable_app/", "entities/", "orchestrations/"):
        assert needed not in ignored
        assert (ROOT / needed.rstrip("/")).exists()
