"""Faults: failing work items and a scheduler restart under a running Function App.

Work items fail on demand through the fault-drill settings ``WORK_ITEM_FAIL_ONCE_ITEMS`` (first attempt in
each worker process fails) and ``WORK_ITEM_FAIL_ITEMS`` (every attempt fails). The orchestration retries
each item up to 3 times; an item that never succeeds fails the whole orchestration with failure details
naming it, so a partial sum is never reported as the answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.stack import LocalStack, wait_for_output
from tests.reliability.conftest import started_stack

pytestmark = pytest.mark.timeout(600)

FAIL_ONCE = [3, 7]
FAIL_ALWAYS = 13
OUTAGE_SECONDS = 5


@pytest.fixture(scope="module")
def faulty_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    env = {"WORK_ITEM_FAIL_ONCE_ITEMS": ",".join(map(str, FAIL_ONCE)), "WORK_ITEM_FAIL_ITEMS": str(FAIL_ALWAYS)}
    yield from started_stack(tmp_path_factory.mktemp("faulty"), env)


def start(api: httpx.Client, items: list[int]) -> str:
    started = api.post("/orchestrators/fan_out_fan_in_orchestrator", json=items)
    assert started.status_code == 202, started.text
    return started.json()["statusQueryGetUri"]


def failed_items(api: httpx.Client, status_url: str) -> list[str]:
    history = api.get(status_url, params={"history": "true"}).json()["historyEvents"]
    return [event["Reason"] for event in history if event["EventType"] == "TaskFailed"]


def test_a_transient_failure_is_retried_and_the_sum_is_exact(faulty_stack: LocalStack) -> None:
    with httpx.Client(base_url=faulty_stack.base_url, timeout=30) as api:
        status_url = start(api, list(range(1, 11)))
        status = wait_for_output(api, status_url)
        assert status["runtimeStatus"] == "Completed"
        assert status["output"] == {"total_items": 10, "sum": 385, "average": 38.5}
        failures = failed_items(api, status_url)
    assert sorted(failures) == [f"work item {item} failed once (WORK_ITEM_FAIL_ONCE_ITEMS)" for item in FAIL_ONCE]


def test_a_permanent_failure_fails_the_orchestration_naming_the_item(faulty_stack: LocalStack) -> None:
    with httpx.Client(base_url=faulty_stack.base_url, timeout=30) as api:
        status_url = start(api, [1, FAIL_ALWAYS, 2])
        status = wait_for_output(api, status_url)
        failures = failed_items(api, status_url)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"] is None  # no partial aggregate
    assert f"work item {FAIL_ALWAYS} failed" in status["failureDetails"]["errorMessage"]
    assert failures == [f"work item {FAIL_ALWAYS} failed (WORK_ITEM_FAIL_ITEMS)"] * 3  # every attempt of the policy


def health_status(base_url: str) -> int:
    try:
        return httpx.get(f"{base_url}/health", timeout=5).status_code
    except httpx.HTTPError:
        return 0


def wait_for_health(base_url: str, expected: int, timeout: float = 120) -> float:
    """Seconds until ``/health`` answers ``expected``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if health_status(base_url) == expected:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"/health never answered {expected} within {timeout} s")


def accepted_once_recovered(api: httpx.Client, path: str, body: object, timeout: float = 120) -> httpx.Response:
    """POST until the app's own client has reconnected too; until then every refusal is a clean 503."""
    deadline = time.monotonic() + timeout
    while True:
        response = api.post(path, json=body)
        if response.status_code == 202 or time.monotonic() > deadline:
            return response
        assert response.status_code == 503, response.text
        assert set(response.json()) == {"error", "field"}
        time.sleep(0.1)


def test_the_worker_reconnects_by_itself_after_a_scheduler_restart(tmp_path: Path) -> None:
    for stack in started_stack(tmp_path, {}):
        with httpx.Client(base_url=stack.base_url, timeout=30) as api:
            before = wait_for_output(api, start(api, [1, 2, 3]))
            assert before["output"]["sum"] == 14

            stack.kill("scheduler")
            wait_for_health(stack.base_url, 503)
            outage = api.post("/counters/during-outage/add", json=1)
            assert outage.status_code == 503  # refused in the error shape, never a hang or a 500
            assert set(outage.json()) == {"error", "field"}
            time.sleep(OUTAGE_SECONDS)

            stack.start_scheduler()
            back = time.monotonic()
            wait_for_health(stack.base_url, 200)
            worker_seconds = time.monotonic() - back
            started = accepted_once_recovered(api, "/orchestrators/fan_out_fan_in_orchestrator", list(range(1, 21)))
            client_seconds = time.monotonic() - back
            print(f"after {OUTAGE_SECONDS} s down: worker {worker_seconds:.1f} s, HTTP API {client_seconds:.1f} s")

            assert started.status_code == 202, started.text
            after = wait_for_output(api, started.json()["statusQueryGetUri"])
            assert after["output"] == {"total_items": 20, "sum": 2870, "average": 143.5}
            assert api.post("/counters/after-restart/add", json=5).status_code == 202
            workflow = wait_for_output(
                api, api.post("/orchestrators/counter_workflow", json="after-restart").json()["statusQueryGetUri"]
            )
            assert workflow["output"] == "Counter 'after-restart' final value: 17"
