"""Work that takes time: instance management while it runs, and the Function App killed in the middle of it."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import httpx
import pytest
from durabletask.azuremanaged.client import DurableTaskSchedulerClient
from durabletask.entities import EntityInstanceId
from durabletask.history import ExecutionCompletedEvent, HistoryEvent, TaskScheduledEvent

from tests.e2e.conftest import SCHEDULER_MODES, running_stack
from tests.e2e.test_local_stack import start_fan_out, sum_of_squares
from tests.helpers.backlog import wait_for_idle
from tests.helpers.counters import counter_over_http, wait_for_value
from tests.helpers.polling import wait_until
from tests.helpers.stack import LocalStack, wait_for_output

pytestmark = pytest.mark.timeout(600)

SLOW_WORK = {"WORK_ITEM_DELAY_MIN_SECONDS": "1", "WORK_ITEM_DELAY_MAX_SECONDS": "2"}


@pytest.fixture(scope="module", params=list(SCHEDULER_MODES))
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from running_stack(request.param, SLOW_WORK, tmp_path_factory)


@pytest.fixture
def direct(stack: LocalStack) -> Iterator[DurableTaskSchedulerClient]:
    with stack.direct_client() as client:
        yield client


def test_status_terminate_and_purge(api: httpx.Client) -> None:
    started = start_fan_out(api, {"count": 5})
    running = api.get(started["statusQueryGetUri"])
    assert running.status_code == 202
    assert running.headers["Retry-After"]
    assert running.json()["runtimeStatus"] in {"Pending", "Running"}

    assert api.delete(started["purgeHistoryDeleteUri"]).status_code == 409  # never purge live work
    assert api.post(started["terminatePostUri"], json={"reason": "e2e"}).status_code == 202
    terminated = wait_for_output(api, started["statusQueryGetUri"])
    assert terminated["runtimeStatus"] == "Terminated"
    assert terminated["output"] == "e2e"

    purged = api.delete(started["purgeHistoryDeleteUri"])
    assert purged.status_code == 200
    assert purged.json() == {"id": started["id"], "instancesDeleted": 1}
    assert api.get(started["statusQueryGetUri"]).status_code == 404


def test_suspend_and_resume_hold_and_release_the_work(stack: LocalStack, api: httpx.Client) -> None:
    started = start_fan_out(api, {"count": 3})
    assert api.post(started["suspendPostUri"]).status_code == 202
    wait_for_runtime_status(api, started["statusQueryGetUri"], "Suspended")

    def completed_items() -> int:
        history = api.get(started["statusQueryGetUri"], params={"history": "true"}).json()["historyEvents"]
        return sum(event["EventType"] == "TaskCompleted" for event in history)

    wait_for_value(completed_items, 3, what="the work items completed")  # every work item answered...
    wait_for_idle(stack.endpoint.removeprefix("http://"))  # ...and nothing is left to run: yet it stays held
    held = api.get(started["statusQueryGetUri"], params={"history": "true"})
    assert (held.status_code, held.json()["runtimeStatus"]) == (202, "Suspended")
    tasks = [event for event in held.json()["historyEvents"] if event["EventType"].startswith("Task")]
    assert [event["FunctionName"] for event in tasks] == ["process_work_item"] * 3  # the aggregate never scheduled
    assert api.post(started["resumePostUri"]).status_code == 202
    status = wait_for_output(api, started["statusQueryGetUri"])
    assert status["output"] == {"total_items": 3, "sum": 14, "average": 14 / 3}


def test_a_killed_function_app_loses_nothing(
    stack: LocalStack, api: httpx.Client, direct: DurableTaskSchedulerClient
) -> None:
    count = 40
    acknowledged = [api.post("/counters/e2e-crash/add", json=1).status_code for _ in range(100)]
    assert acknowledged == [202] * 100
    started = start_fan_out(api, {"count": count})  # after the signals, so the kill lands mid fan-out
    wait_until_running_activities(direct, started["id"])

    stack.kill("host")
    for _ in range(50):  # signals queued while no worker is connected are kept, not lost
        direct.signal_entity(EntityInstanceId("counter", "e2e-crash"), "add", input=1)
    stack.start_host()
    stack.wait_healthy()

    status = wait_for_output(api, started["statusQueryGetUri"], timeout=180)
    assert status["runtimeStatus"] == "Completed"
    total = sum_of_squares(count)
    assert status["output"] == {"total_items": count, "sum": total, "average": total / count}
    wait_for_value(partial(counter_over_http, api, "e2e-crash"), 150)
    wait_for_idle(stack.endpoint.removeprefix("http://"))  # nothing queued or held: a duplicate cannot come later
    assert api.get("/counters/e2e-crash").json()["value"] == 150


def wait_for_runtime_status(api: httpx.Client, status_url: str, expected: str, timeout: float = 30) -> None:
    def reached() -> bool:
        return api.get(status_url).json()["runtimeStatus"] == expected

    wait_until(reached, timeout, 0.1, f"{status_url} never reached {expected}")


def wait_until_running_activities(direct: DurableTaskSchedulerClient, instance_id: str, timeout: float = 60) -> None:
    """Wait until the orchestrator has scheduled its activities, so the kill lands mid fan-out."""

    def scheduled() -> list[HistoryEvent] | None:
        history = direct.get_orchestration_history(instance_id)
        return history if any(isinstance(event, TaskScheduledEvent) for event in history) else None

    history = wait_until(scheduled, timeout, message="the fan-out never scheduled its activities")
    assert not any(isinstance(event, ExecutionCompletedEvent) for event in history)
