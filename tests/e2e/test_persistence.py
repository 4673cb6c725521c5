"""The persistent scheduler killed with SIGKILL mid-work and restarted on the same file: nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import httpx
import pytest
from durabletask.history import TaskCompletedEvent

from tests.e2e.conftest import running_stack
from tests.e2e.test_local_stack import start_fan_out, sum_of_squares
from tests.helpers.backlog import wait_for_idle
from tests.helpers.counters import counter_over_http, wait_for_value
from tests.helpers.polling import wait_until
from tests.helpers.stack import LocalStack, wait_for_output

pytestmark = pytest.mark.timeout(600)

SOME_DELAY = {"WORK_ITEM_DELAY_MIN_SECONDS": "0.2", "WORK_ITEM_DELAY_MAX_SECONDS": "1"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from running_stack("sqlite", SOME_DELAY, tmp_path_factory)


def restart_scheduler(stack: LocalStack) -> None:
    """SIGKILL the scheduler, as a crash would, and start it again on the same port and data file."""
    stack.kill("scheduler")
    stack.start_scheduler()
    stack.wait_healthy()


def test_a_fan_out_with_delays_survives_a_killed_scheduler(stack: LocalStack, api: httpx.Client) -> None:
    count = 30
    started = start_fan_out(api, {"count": count})
    wait_until_some_activities_completed(stack, started["id"])
    raised = api.post(f"/instances/{started['id']}/raiseEvent/audit", json={"by": "e2e"})
    assert raised.status_code == 202, raised.text

    restart_scheduler(stack)

    status = wait_for_output(api, started["statusQueryGetUri"] + "?history=true", timeout=180)
    assert status["runtimeStatus"] == "Completed"
    total = sum_of_squares(count)
    assert status["output"] == {"total_items": count, "sum": total, "average": total / count}
    kinds = [event["EventType"] for event in status["historyEvents"]]
    assert kinds.count("TaskCompleted") == count + 1  # every work item and the aggregate, each exactly once
    assert any(event["EventType"] == "EventRaised" and event["Name"] == "audit" for event in status["historyEvents"])


def test_every_acknowledged_signal_survives_a_killed_scheduler(stack: LocalStack, api: httpx.Client) -> None:
    burst, key = 400, "e2e-persist"
    for sent in range(burst):
        if sent == burst // 2:
            restart_scheduler(stack)  # the first half is partly processed, partly queued, partly in flight
        send_until_acknowledged(api, f"/counters/{key}/add", 1)
    wait_for_value(partial(counter_over_http, api, key), burst)
    wait_for_idle(stack.endpoint.removeprefix("http://"))  # nothing queued or held: the value can no longer move
    assert api.get(f"/counters/{key}").json()["value"] == burst

    restart_scheduler(stack)
    assert api.get(f"/counters/{key}").json()["value"] == burst  # entity state itself is kept


def send_until_acknowledged(api: httpx.Client, path: str, amount: int, timeout: float = 30) -> None:
    """Retry only on 503: the host could not reach the scheduler, so the signal was never delivered."""

    def acknowledged() -> bool:
        response = api.post(path, json=amount)
        assert response.status_code in (202, 503), response.text
        return response.status_code == 202

    wait_until(acknowledged, timeout, 0.1, f"{path} was not acknowledged")


def wait_until_some_activities_completed(stack: LocalStack, instance_id: str, timeout: float = 60) -> None:
    """Wait until some work items are done and others still running, so the kill lands mid fan-out."""
    with stack.direct_client() as direct:

        def some_completed() -> bool:
            history = direct.get_orchestration_history(instance_id)
            return any(isinstance(event, TaskCompletedEvent) for event in history)

        wait_until(some_completed, timeout, message="no work item completed in time")
        state = direct.get_orchestration_state(instance_id)
        assert state is not None and state.runtime_status.name == "RUNNING"
