"""The hosted worker: one per process, off by a setting, and never in the way of the process exiting."""

from __future__ import annotations

import os
import subprocess
import sys
from types import ModuleType

from durable_app.settings import AppSettings
from durable_app.worker import hosted_worker_status, start_hosted_worker
from tests.conftest import ROOT

IMPORT_AND_EXIT = """
import time
import function_app
from durable_app.worker.hosting import hosted_worker_status
deadline = time.monotonic() + 30
while not hosted_worker_status().healthy and time.monotonic() < deadline:
    time.sleep(0.05)
status = hosted_worker_status()
print("enabled" if status.enabled else "disabled", "connected" if status.healthy else "not connected", flush=True)
"""


def run_app_process(endpoint: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": f"Endpoint={endpoint};TaskHub=default;Authentication=None",
        **settings,
    }
    return subprocess.run(
        [sys.executable, "-c", IMPORT_AND_EXIT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_starting_again_in_the_same_process_reuses_the_worker(app_module: ModuleType) -> None:
    first = start_hosted_worker(app_module.settings)
    again = start_hosted_worker(AppSettings.from_env(dict(os.environ)))
    assert first is not None
    assert again is first
    assert hosted_worker_status().running


def test_a_process_hosting_the_worker_exits_by_itself(endpoint: str) -> None:
    """Interpreter exit must stop the worker: the SDK's threads would otherwise keep the process alive."""
    finished = run_app_process(endpoint)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "enabled connected"


def test_the_worker_can_be_switched_off(endpoint: str) -> None:
    finished = run_app_process(endpoint, DTS_WORKER_ENABLED="false")
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "disabled connected"  # a client-only process counts as healthy
