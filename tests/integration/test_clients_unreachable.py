"""The command-line clients with nothing listening: one line naming what is missing, and a failing exit."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local_stack.ports import free_port
from tests.helpers.stack import ROOT

CLIENTS = ["clients.fan_out_fan_in_client", "clients.entities_client"]


def run(module: str, arguments: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"}
    return subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("module", CLIENTS)
def test_direct_mode_names_the_scheduler_and_how_to_start_it(module: str) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    completed = run(module, [], {"ENDPOINT": endpoint, "TASKHUB": "default"})
    assert completed.returncode == 1
    assert completed.stderr.splitlines() == [
        f"Could not reach the scheduler at {endpoint} (task hub default): UNAVAILABLE. Start the local stack "
        "with `make run` (or the DTS emulator), or point DURABLE_TASK_SCHEDULER_CONNECTION_STRING or ENDPOINT "
        "at a running scheduler."
    ]
    assert "Traceback" not in completed.stdout + completed.stderr


@pytest.mark.parametrize("module", CLIENTS)
def test_url_mode_names_the_app_and_how_to_start_it(module: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    completed = run(module, ["--url", url], {})
    assert completed.returncode == 1
    [line] = completed.stderr.splitlines()
    assert line.startswith(f"Could not reach the app at {url}: ")
    assert "Connection refused" in line
    assert line.endswith(
        "Start it with `make run` (the app answers on http://localhost:7071), or pass --url with its address."
    )
    assert "Traceback" not in completed.stdout + completed.stderr
