"""``FUNCTIONS_WORKER_PROCESS_COUNT``: the local host runs that many worker processes, as Azure does, each
importing ``function_app.py`` and so hosting its own DTS worker. They share the work and nothing runs twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local_stack.functions_host.processes import worker_process_count
from local_stack.ports import free_port
from local_stack.scheduler import LocalScheduler, serve
from tests.helpers.polling import wait_until
from tests.helpers.stack import ROOT, wait_for_output

pytestmark = pytest.mark.timeout(300)

ITEMS = 120


@pytest.fixture
def scheduler() -> Iterator[LocalScheduler]:
    running = serve(free_port())
    yield running
    running.stop(grace=0)


@pytest.fixture
def two_process_host(scheduler: LocalScheduler, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {
        **os.environ,
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": (
            f"Endpoint=http://127.0.0.1:{scheduler.port};TaskHub=default;Authentication=None"
        ),
        "FUNCTIONS_WORKER_PROCESS_COUNT": "2",
        "WORK_ITEM_DELAY_MIN_SECONDS": "0.02",
        "WORK_ITEM_DELAY_MAX_SECONDS": "0.02",
    }
    with (tmp_path / "host.log").open("wb") as log:
        host = subprocess.Popen(
            [sys.executable, "-m", "local_stack", "host", "--port", str(port), "--quiet"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: scheduler.connected_streams() == 2, timeout=60, message=lambda: (tmp_path / "host.log").read_text()
        )
        yield f"http://127.0.0.1:{port}/api", host
    finally:
        if host.poll() is None:
            host.send_signal(signal.SIGINT)
        host.wait(timeout=60)


def test_worker_processes_share_the_work_and_nothing_runs_twice(
    scheduler: LocalScheduler, two_process_host: tuple[str, subprocess.Popen[bytes]]
) -> None:
    with httpx.Client(base_url=two_process_host[0], timeout=30) as api:
        started = api.post("/orchestrators/fan_out_fan_in_orchestrator", json={"count": ITEMS})
        assert started.status_code == 202, started.text
        output = wait_for_output(api, started.json()["statusQueryGetUri"])["output"]
    assert output["total_items"] == ITEMS
    assert output["sum"] == ITEMS * (ITEMS + 1) * (2 * ITEMS + 1) // 6
    activities = {stream: count for (stream, kind), count in scheduler.dispatched.items() if kind == "activity"}
    assert len(activities) == 2 and min(activities.values()) > 0, activities  # both processes did activities
    assert sum(activities.values()) == ITEMS + 1  # each work item and the aggregation handed out once...
    assert (scheduler.redelivered, scheduler.dropped_completions) == (0, 0)  # ...and answered once


def test_ctrl_c_stops_every_worker_process(
    scheduler: LocalScheduler, two_process_host: tuple[str, subprocess.Popen[bytes]]
) -> None:
    url, host = two_process_host
    assert httpx.get(f"{url}/health", timeout=30).status_code == 200
    host.send_signal(signal.SIGINT)
    assert host.wait(timeout=60) == 0
    wait_until(lambda: scheduler.connected_streams() == 0)


@pytest.mark.parametrize("value", ["0", "11", "two", "-1"])
def test_a_process_count_azure_would_refuse_is_a_clear_error(value: str) -> None:
    with pytest.raises(ValueError, match="FUNCTIONS_WORKER_PROCESS_COUNT: must be a whole number from 1 to 10"):
        worker_process_count({"FUNCTIONS_WORKER_PROCESS_COUNT": value})


def test_one_process_unless_set() -> None:
    assert worker_process_count({}) == 1
    assert worker_process_count({"FUNCTIONS_WORKER_PROCESS_COUNT": "4"}) == 4
