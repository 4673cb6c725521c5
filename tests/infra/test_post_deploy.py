"""What azd runs after every deploy: the Elastic Premium release and the smoke check.

The release talks to Azure only through the Azure CLI, so a stand-in `az` on PATH records each call and answers
as the real one would; the package it uploads is really built. The smoke check runs against the real local stack
(`make run`'s processes), with a function key required as in Azure, and its one-line failures are asserted.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from local_stack.ports import free_port
from scripts import smoke as smoke_script
from tests.helpers.polling import wait_until
from tests.helpers.stack import LocalStack
from tests.infra.conftest import INFRA

ROOT = INFRA.parent
GROUP, APP = "rg-dev", "func-abc"
IDENTITY = "/subscriptions/s/resourceGroups/rg-dev/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-abc"
PACKAGE_URL = "https://stabc.blob.core.windows.net/app-package/function-app.zip"
KEY = "smoke-test-key"
SITE_ID = f"/subscriptions/s/resourceGroups/{GROUP}/providers/Microsoft.Web/sites/{APP}"
# The two key listings as the Azure CLI prints them with `-o json`: `az functionapp keys list`, and
# `az containerapp function keys list --key-type hostKey` (azure-cli-extensions' test_containerapp_function_keys
# asserts {"value": {"keys": [...]}}).
FUNCTION_APP_KEYS = {"functionKeys": {"default": "flex-key"}, "masterKey": "master", "systemKeys": {}}
CONTAINER_APP_KEYS = {
    "value": {"keys": [{"name": "_master", "value": "master"}, {"name": "default", "value": "aca-key"}]}
}

# Answers the stand-in gives, by the first three words of the command; everything is logged to AZ_LOG.
FAKE_AZ = f"""#!{sys.executable}
import json, os, sys, zipfile
args = sys.argv[1:]
entry = {{"args": args}}
if "--file" in args:
    with zipfile.ZipFile(args[args.index("--file") + 1]) as archive:
        entry["zip"] = sorted({{name.split("/")[0] for name in archive.namelist()}})
with open(os.environ["AZ_LOG"], "a") as log:
    log.write(json.dumps(entry) + "\\n")
answers = {{
    ("functionapp", "identity", "show"): {IDENTITY.lower()!r},
    ("functionapp", "config", "show"): os.environ.get("AZ_SITE_PYTHON", "Python|3.11"),
    ("functionapp", "config", "appsettings"): json.dumps([
        {{"name": "WEBSITE_RUN_FROM_PACKAGE", "value": "1"}},
        {{"name": "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID", "value": {IDENTITY!r}}},
    ]),
    ("functionapp", "show", "-g"): {SITE_ID!r},
    ("functionapp", "keys", "list"): {json.dumps(FUNCTION_APP_KEYS)!r},
    ("containerapp", "function", "keys"): {json.dumps(CONTAINER_APP_KEYS)!r},
}}
print(answers.get(tuple(args[:3]), ""))
"""


def fake_az(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH finds the stand-in `az` first."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "az"
    script.write_text(FAKE_AZ)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "AZ_LOG": str(tmp_path / "az.log")}


def release(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.release_package"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_elastic_premium_release_uploads_fixes_the_settings_restarts_and_syncs_triggers(tmp_path: Path) -> None:
    env = fake_az(tmp_path)
    outputs = {
        "DEPLOY_RUN_FROM_PACKAGE": "true",
        "AZURE_RESOURCE_GROUP": GROUP,
        "AZURE_FUNCTION_APP_NAME": APP,
        "AZURE_FUNCTION_APP_PACKAGE_URL": PACKAGE_URL,
    }
    run = release({**env, **outputs})
    assert run.returncode == 0, run.stderr
    calls = [json.loads(line) for line in Path(env["AZ_LOG"]).read_text().splitlines()]
    verbs = [" ".join(call["args"][:3]) for call in calls]
    assert verbs == [
        "functionapp identity show",
        "functionapp config show",
        "storage blob upload",
        "functionapp config appsettings",
        "functionapp config appsettings",
        "functionapp restart -g",
        "functionapp show -g",
        "rest --method post",
    ]
    # Restart first, then sync: the package was updated in place, under the same URL.
    assert calls[-1]["args"][3:5] == ["--url", f"{SITE_ID}/syncfunctiontriggers?api-version=2025-05-01"]
    upload = calls[2]
    assert upload["args"][3:7] == ["--auth-mode", "login", "--blob-url", PACKAGE_URL]
    assert upload["zip"] == [".python_packages", "durable_app", "entities", "function_app.py", "host.json",
                             "orchestrations", "requirements.txt"]  # fmt: skip
    settings = calls[4]["args"]
    assert settings[3] == "set"
    # The stale WEBSITE_RUN_FROM_PACKAGE=1 is replaced; the identity's id matched in another case and is kept.
    assert settings[settings.index("--settings") + 1 :] == [
        f"WEBSITE_RUN_FROM_PACKAGE={PACKAGE_URL}",
        "-o",
        "none",
        "--only-show-errors",
    ]
    assert "for Linux x86-64 Python 3.11" in run.stdout
    assert (
        run.stdout.splitlines()[-1]
        == f"release: synced the triggers of {APP}, so the platform knows the package's functions"
    )


def test_a_site_python_without_wheels_fails_in_one_line_before_any_upload(tmp_path: Path) -> None:
    env = fake_az(tmp_path)
    outputs = {
        "DEPLOY_RUN_FROM_PACKAGE": "true",
        "AZURE_RESOURCE_GROUP": GROUP,
        "AZURE_FUNCTION_APP_NAME": APP,
        "AZURE_FUNCTION_APP_PACKAGE_URL": PACKAGE_URL,
        "AZ_SITE_PYTHON": "Python|3.9",
    }
    run = release({**env, **outputs})
    assert run.returncode == 1
    assert run.stderr.splitlines()[-1] == (
        "release: FAILED pip found no Linux wheels for Python 3.9 (see its output above)"
    )
    calls = [json.loads(line)["args"][:3] for line in Path(env["AZ_LOG"]).read_text().splitlines()]
    assert calls == [["functionapp", "identity", "show"], ["functionapp", "config", "show"]]


def test_the_release_does_nothing_on_the_plans_azd_deploys_itself(tmp_path: Path) -> None:
    env = fake_az(tmp_path)
    run = release({**env, "DEPLOY_RUN_FROM_PACKAGE": "false"})
    assert (run.returncode, run.stdout.strip()) == (0, "release: nothing to do, azd deployed this plan's code itself")
    assert not Path(env["AZ_LOG"]).exists()


def test_a_release_without_the_provision_outputs_fails_in_one_line() -> None:
    run = release({"DEPLOY_RUN_FROM_PACKAGE": "true", "AZURE_RESOURCE_GROUP": ""})
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        'release: FAILED AZURE_RESOURCE_GROUP is not set: run `azd provision` first (or `eval "$(azd env get-values)"`)'
    ]


def test_azd_runs_the_release_then_the_smoke_check_after_every_deploy() -> None:
    hooks = yaml.safe_load((ROOT / "azure.yaml").read_text())["hooks"]
    assert set(hooks) == {"postdeploy"}
    posix, windows = hooks["postdeploy"]["posix"], hooks["postdeploy"]["windows"]
    assert posix == {"shell": "sh", "run": "python3 -m scripts.release_package && python3 -m scripts.smoke"}
    assert windows["shell"] == "pwsh"
    assert windows["run"].index("scripts.release_package") < windows["run"].index("scripts.smoke")


@pytest.mark.parametrize(
    ("deploy_container_app", "command", "key"),
    [("false", ["functionapp", "keys", "list"], "flex-key"),
     ("true", ["containerapp", "function", "keys", "list", "--key-type", "hostKey"], "aca-key")],
)  # fmt: skip
def test_the_smoke_check_reads_the_default_key_out_of_each_clis_answer(
    tmp_path: Path, deploy_container_app: str, command: list[str], key: str
) -> None:
    env = {**fake_az(tmp_path), "AZURE_RESOURCE_GROUP": GROUP, "AZURE_FUNCTION_APP_NAME": APP,
           "DEPLOY_CONTAINER_APP": deploy_container_app}  # fmt: skip
    assert smoke_script.fetch_key(env) == key
    [call] = [json.loads(line)["args"] for line in Path(env["AZ_LOG"]).read_text().splitlines()]
    assert call == [*command, "-g", GROUP, "-n", APP, "-o", "json", "--only-show-errors"]


@pytest.mark.parametrize("answer", ["", "[]", '{"value": {"keys": [{"name": "other", "value": "x"}]}}', '{"value": 1}'])
def test_an_answer_without_a_default_key_fails_in_one_line(tmp_path: Path, answer: str) -> None:
    env = fake_az(tmp_path)
    script = Path(env["PATH"].split(os.pathsep)[0]) / "az"
    script.write_text(f"#!/bin/sh\necho '{answer}'\n")
    env = {**env, "AZURE_RESOURCE_GROUP": GROUP, "AZURE_FUNCTION_APP_NAME": APP, "DEPLOY_CONTAINER_APP": "true"}
    with pytest.raises(smoke_script.SmokeFailure) as failure:
        smoke_script.fetch_key(env)
    assert str(failure.value) == "key: `az containerapp function keys` gave no key (no default key); pass --key instead"


# The smoke check against the real local stack ------------------------------------------------------------------


def smoke(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "DTS_DASHBOARD", "SMOKE_"))}
    return subprocess.run(
        [sys.executable, "-m", "scripts.smoke", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> LocalStack:
    """`make run`'s scheduler and Functions host, asking for a function key on every route but health, as Azure."""
    stack = LocalStack(log_dir=tmp_path_factory.mktemp("stack"), env={"LOCAL_FUNCTION_KEY": KEY})
    with stack.running():
        yield stack


def test_make_smoke_passes_against_the_running_app(stack: LocalStack) -> None:
    base = f"http://127.0.0.1:{stack.http_port}"
    run = subprocess.run(
        ["make", "-s", "smoke", f"URL={base}", f"KEY={KEY}", f"PYTHON={sys.executable}"],
        cwd=ROOT,
        env={**os.environ, "DTS_DASHBOARD_URL": "http://127.0.0.1:8082"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [line.split(":", 2)[1].split()[-1] for line in lines] == ["health", "fan-out", "counter", "dashboard"]
    assert lines[0] == f"smoke: ok   health: worker connected to {stack.endpoint} (task hub default)"
    assert lines[1].endswith("completed with sum 55")
    assert lines[-1] == "smoke: dashboard: http://127.0.0.1:8082"


def test_a_wrong_key_fails_in_one_line(stack: LocalStack) -> None:
    run = smoke("--url", f"http://127.0.0.1:{stack.http_port}/api", "--key", "wrong", "--timeout", "30")
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "smoke: FAILED fan-out: 401, the API refused the function key (or its absence); pass the app's key"
    ]


def test_a_wrong_url_fails_in_one_line() -> None:
    port = free_port()
    run = smoke("--url", f"http://127.0.0.1:{port}", "--key", KEY, "--timeout", "1")
    assert run.returncode == 1
    [line] = run.stderr.splitlines()
    assert line.startswith(f"smoke: FAILED health: http://127.0.0.1:{port}/api/health cannot be reached (")
    assert line.endswith("); check the URL and that the app is running")


def test_a_worker_cut_off_from_its_scheduler_fails_in_one_line(tmp_path: Path) -> None:
    """The scheduler stops under a running app: health turns 503 and the check names the worker's connection."""
    stack = LocalStack(log_dir=tmp_path)
    with stack.running():
        stack.kill("scheduler")
        wait_until(
            lambda: httpx.get(f"{stack.base_url}/health", timeout=5).status_code == 503,
            60, 0.2, "health never noticed the scheduler was gone",
        )  # fmt: skip
        run = smoke("--url", f"http://127.0.0.1:{stack.http_port}", "--timeout", "8")
    assert run.returncode == 1
    [line] = run.stderr.splitlines()
    assert line.startswith("smoke: FAILED health: the hosted worker is not connected to the scheduler (lastError: ")
    assert line.endswith(
        "check the scheduler's allow-list holds DTS_OUTBOUND_IP and the app identity's Durable Task role"
    )
