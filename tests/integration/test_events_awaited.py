"""The external events an instance awaits, named by ``GET /api/instances/{id}/waiting`` and the dashboard's page,
against a real scheduler and worker: the app's approval, and instances of code this app does not hold."""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import httpx
import pytest
from durabletask import task

from durable_app.testing import WorkflowEnv
from durable_app.workflows.registry import Workflows
from local_stack.dashboard.app import create_app
from local_stack.dashboard.guard import Guard
from local_stack.dashboard.reader import SchedulerReader
from tests.helpers.polling import wait_until
from tests.integration.test_http_api import call, payload, wait_done

DASHBOARD_PORT = 8082
"""The port the in-process dashboard believes it serves (its Host check); nothing listens there."""


def waiting_of(app: ModuleType, instance_id: str) -> dict[str, Any]:
    answer = call(
        app, "get_instance_waiting", "GET", f"instances/{instance_id}/waiting", route={"instance_id": instance_id}
    )
    assert answer.status_code == 200, answer.get_body()
    return payload(answer)


def raise_event(app: ModuleType, instance_id: str, name: str, data: Any) -> None:
    route = {"instance_id": instance_id, "event_name": name}
    answer = call(app, "raise_event", "POST", f"instances/{instance_id}/raiseEvent/{name}", data, route=route)
    assert answer.status_code == 202, answer.get_body()


def dashboard_page(endpoint: str, instance_id: str) -> str:
    """The instance's page from the dashboard's own routes and reader, on the scheduler at ``endpoint``."""

    async def fetch() -> httpx.Response:
        reader = SchedulerReader(endpoint, "default")
        transport = httpx.ASGITransport(app=create_app(reader, Guard("127.0.0.1", DASHBOARD_PORT)))
        try:
            async with httpx.AsyncClient(transport=transport, base_url=f"http://127.0.0.1:{DASHBOARD_PORT}") as web:
                return await web.get(f"/instances/{instance_id}")
        finally:
            reader.close()

    page = asyncio.run(fetch())
    assert page.status_code == 200, page.text
    return page.text


def test_an_approval_names_the_event_it_awaits_until_the_decision_arrives(
    app_module: ModuleType, endpoint: str
) -> None:
    request = {"subject": "invoice 9", "timeout_seconds": 600}
    started = call(app_module, "start_approval_workflow", "POST", "orchestrators/approval_workflow", request)
    instance_id = payload(started)["id"]
    (awaited,) = wait_until(lambda: waiting_of(app_module, instance_id)["eventsAwaited"], 30)
    assert awaited["name"] == "approval"
    first_since = datetime.fromisoformat(awaited["since"])
    assert timedelta(0) <= datetime.now(UTC) - first_since < timedelta(seconds=60)
    found = waiting_of(app_module, instance_id)
    assert (found["waitsForAnEvent"], len(found["timers"])) == (True, 1)  # the event, and the deadline beside it
    assert "eventsAwaitedUnknownReason" not in found
    page = dashboard_page(endpoint, instance_id)
    assert '<li class="wait event">event <strong>approval</strong> since ' in page

    raise_event(app_module, instance_id, "approval", {"maybe": 1})  # not a decision: the workflow waits again
    again = wait_until(lambda: (found := waiting_of(app_module, instance_id))["eventsReceived"] and found, 30)
    assert [event["name"] for event in again["eventsAwaited"]] == ["approval"]
    assert datetime.fromisoformat(again["eventsAwaited"][0]["since"]) > first_since

    raise_event(app_module, instance_id, "approval", {"approved": True})
    assert payload(wait_done(app_module, instance_id))["output"]["outcome"] == "approved"
    done = waiting_of(app_module, instance_id)
    assert (done["finished"], done["eventsAwaited"], done["waitsForAnEvent"]) == (True, [], False)
    assert "<strong>approval</strong>" not in dashboard_page(endpoint, instance_id)


def other_code() -> Workflows:
    """Orchestrators another app runs on the same scheduler: one this app lacks, and an older approval."""
    elsewhere = Workflows(packages=())

    @elsewhere.orchestrator
    def elsewhere_workflow(ctx: task.OrchestrationContext, _: Any) -> Generator[task.Task[Any], Any, Any]:
        return (yield ctx.wait_for_external_event("go"))

    @elsewhere.activity
    def notify_approvers(ctx: task.ActivityContext, _: Any) -> None:
        return None

    @elsewhere.orchestrator
    def approval_workflow(ctx: task.OrchestrationContext, _: Any) -> Generator[task.Task[Any], Any, Any]:
        yield ctx.call_activity(notify_approvers)
        return (yield ctx.wait_for_external_event("approval"))

    return elsewhere


@pytest.fixture
def other_app() -> Iterator[WorkflowEnv]:
    """A scheduler running :func:`other_code`; the app's settings (so its routes) point at it meanwhile."""
    with WorkflowEnv(other_code()) as env:
        yield env


def recorded(env: WorkflowEnv, instance_id: str, kind: str) -> bool:
    return any(kind in event for event in env.history(instance_id)["events"])


def test_code_this_app_does_not_hold_leaves_the_names_unknown_with_the_reason(
    app_module: ModuleType, other_app: WorkflowEnv
) -> None:
    elsewhere = other_app.start("elsewhere_workflow")
    older = other_app.start("approval_workflow")
    wait_until(lambda: recorded(other_app, elsewhere, "orchestratorCompleted"), 30)
    wait_until(lambda: recorded(other_app, older, "taskScheduled"), 30)

    found = waiting_of(app_module, elsewhere)
    assert (found["runtimeStatus"], found["eventsAwaited"]) == ("Running", None)
    reason = found["eventsAwaitedUnknownReason"]
    assert reason.startswith("no orchestrator named 'elsewhere_workflow' is declared in this app; declared: ")
    assert found["waitsForAnEvent"] is True  # nothing in flight: it can only be waiting for an event

    changed = waiting_of(app_module, older)
    assert changed["eventsAwaited"] is None
    assert changed["eventsAwaitedUnknownReason"].startswith(
        "approval_workflow does not replay its history: NonDeterminismError: "
    )

    page = dashboard_page(f"http://127.0.0.1:{other_app.port}", elsewhere)
    assert "event names unknown: no orchestrator named &#x27;elsewhere_workflow&#x27; is declared" in page
