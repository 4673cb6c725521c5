"""``historyEvents`` in Durable Functions' shape, from a real history: a task and a sub-orchestration that each
completed and failed, an external event and a timer, run by a real worker on a real scheduler (both stores)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
from durabletask import task
from durabletask.client import TaskHubGrpcClient
from durabletask.worker import TaskHubGrpcWorker

from durable_app.http.history import history_events
from local_stack.scheduler import LocalScheduler
from tests.integration.test_http_api import call, payload, wait_done


def double(ctx: task.ActivityContext, value: int) -> int:
    if value < 0:
        raise ValueError(f"cannot double {value}")
    return value * 2


def child(ctx: task.OrchestrationContext, value: int) -> Any:
    doubled = yield ctx.call_activity(double, input=value)
    return {"doubled": doubled}


def shaped(ctx: task.OrchestrationContext, request: dict[str, Any]) -> Any:
    """Every kind of event a script reads: tasks and sub-orchestrations that complete and fail, a timer, an event."""
    done = yield ctx.call_activity(double, input=request["value"])
    with contextlib.suppress(task.TaskFailedError):
        yield ctx.call_activity(double, input=-1)
    nested = yield ctx.call_sub_orchestrator(child, input=done, instance_id=f"{ctx.instance_id}-ok")
    with contextlib.suppress(task.TaskFailedError):
        yield ctx.call_sub_orchestrator(child, input=-5, instance_id=f"{ctx.instance_id}-bad")
    yield ctx.create_timer(timedelta(milliseconds=1))
    note = yield ctx.wait_for_external_event("note")
    return {"nested": nested, "note": note}


@pytest.fixture
def finished(store_scheduler: LocalScheduler, store_client: TaskHubGrpcClient) -> Iterator[list[Any]]:
    """The history of one finished ``shaped`` instance."""
    worker = TaskHubGrpcWorker(host_address=f"localhost:{store_scheduler.port}")
    worker.add_orchestrator(shaped)
    worker.add_orchestrator(child)
    worker.add_activity(double)
    worker.start()
    try:
        store_client.schedule_new_orchestration(shaped, input={"value": 3}, instance_id="shape")
        store_client.wait_for_orchestration_start("shape", timeout=30)
        store_client.raise_orchestration_event("shape", "note", data={"by": "ada"})
        state = store_client.wait_for_orchestration_completion("shape", timeout=30)
        assert state is not None and state.failure_details is None
        yield store_client.get_orchestration_history("shape")
    finally:
        worker.stop()


def _of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["EventType"] == kind]


def test_history_answers_durable_functions_shape(finished: list[Any]) -> None:
    events = history_events(finished, with_outputs=True, show_input=True)

    kinds = [event["EventType"] for event in events]
    assert kinds[0] == "ExecutionStarted" and kinds[-1] == "ExecutionCompleted"
    assert not {"OrchestratorStarted", "OrchestratorCompleted", "TaskScheduled"} & set(kinds)
    assert not _of(events, "SubOrchestrationInstanceCreated")  # folded into the event that ended each
    assert all(set(event) >= {"EventType", "Timestamp"} and event["Timestamp"].endswith("+00:00") for event in events)
    assert not any(key[:1].islower() for event in events for key in event)

    started = _of(events, "ExecutionStarted")[0]
    assert (started["FunctionName"], started["Input"]) == ("shaped", {"value": 3})
    completed_tasks = _of(events, "TaskCompleted")
    assert [(e["FunctionName"], e["Result"]) for e in completed_tasks] == [("double", 6)]
    assert completed_tasks[0]["ScheduledTime"] <= completed_tasks[0]["Timestamp"]
    [failed_task] = _of(events, "TaskFailed")
    assert failed_task["FunctionName"] == "double" and failed_task["Reason"] == "cannot double -1"
    assert "ValueError: cannot double -1" in failed_task["Details"] and "ScheduledTime" in failed_task
    [sub_done] = _of(events, "SubOrchestrationInstanceCompleted")
    assert (sub_done["FunctionName"], sub_done["Result"]) == ("child", {"doubled": 12})
    [sub_failed] = _of(events, "SubOrchestrationInstanceFailed")
    assert sub_failed["FunctionName"] == "child" and "cannot double -5" in sub_failed["Reason"]
    assert "FireAt" in _of(events, "TimerCreated")[0] and "FireAt" in _of(events, "TimerFired")[0]
    [raised] = _of(events, "EventRaised")
    assert raised["Name"] == "note" and "Input" not in raised  # as Durable Functions: event data is not shown
    ended = _of(events, "ExecutionCompleted")[0]
    assert ended["OrchestrationStatus"] == "Completed"
    assert ended["Result"] == {"nested": {"doubled": 12}, "note": {"by": "ada"}}


def test_results_and_the_input_are_left_out_unless_asked(finished: list[Any]) -> None:
    events = history_events(finished, with_outputs=False, show_input=False)

    assert not [event for event in events if "Result" in event or "Input" in event]
    assert [e["FunctionName"] for e in _of(events, "TaskCompleted")] == ["double"]
    assert _of(events, "ExecutionCompleted")[0]["OrchestrationStatus"] == "Completed"


def test_the_status_route_answers_the_shape_and_honours_show_input(app_module: ModuleType) -> None:
    started = payload(call(app_module, "start_fan_out_fan_in_orchestrator", "POST", "x", [2, 3]))
    wait_done(app_module, started["id"])
    route = {"instance_id": started["id"]}
    shown = payload(call(app_module, "get_instance_status", "GET", "x", route=route, params={"showHistory": "true"}))
    assert _of(shown["historyEvents"], "ExecutionStarted")[0]["Input"] == [2, 3]
    hidden = payload(
        call(
            app_module,
            "get_instance_status",
            "GET",
            "x",
            route=route,
            params={"showHistory": "true", "showHistoryOutput": "true", "showInput": "false"},
        )
    )
    assert hidden["input"] is None
    assert not [event for event in hidden["historyEvents"] if "Input" in event]
    assert _of(hidden["historyEvents"], "ExecutionCompleted")[0]["Result"]["sum"] == 13
