"""The kit's own contract: validation as over HTTP, time that skips only while nothing runs, fakes, timeouts."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from durabletask import task

from durable_app.testing import WorkflowEnv
from durable_app.values import RefusedRequest
from tests.helpers.polling import wait_until
from tests.kit.clock_workflows.timers import clock_workflows

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def clock_env() -> Iterator[WorkflowEnv]:
    with WorkflowEnv(clock_workflows) as env:
        yield env


def refusal(call: Any, *args: Any) -> RefusedRequest:
    with pytest.raises(RefusedRequest) as refused:
        call(*args)
    return refused.value


def test_a_bad_input_is_refused_naming_its_field_as_over_http(workflow_env: WorkflowEnv) -> None:
    assert refusal(workflow_env.start, "approval_workflow", {"timeout_seconds": -1}).field == "timeout_seconds"
    assert refusal(workflow_env.start, "approval_workflow", {"colour": "red"}).field == "colour"
    assert refusal(workflow_env.start, "transfer_workflow", {"source": "a", "destination": "a", "amount": 1}).field == (
        "destination"
    )
    assert refusal(workflow_env.start, "counter_workflow", "no spaces allowed").field == "entity_key"
    assert refusal(workflow_env.start, "no_such_workflow").field == "name"


def test_ids_keys_and_operations_are_checked_before_anything_is_sent(workflow_env: WorkflowEnv) -> None:
    assert refusal(lambda: workflow_env.start("approval_workflow", instance_id="../etc")).field == "instance_id"
    assert refusal(workflow_env.signal, "counter", "k", "multiply", 2).field == "operation"
    assert refusal(workflow_env.signal, "counter", "k", "add", "2").field == "input"
    assert refusal(workflow_env.signal, "counter", "k" * 101, "add", 2).field == "key"
    assert refusal(workflow_env.entity_state, "nothing", "k").field == "name"
    with pytest.raises(KeyError, match="no activity named"):
        workflow_env.fake_activity("no_such_activity", lambda ctx, value: value)
    with pytest.raises(KeyError, match="no instance"):
        workflow_env.wait("never-started")


def test_a_chosen_instance_id_is_used_and_reused_once_finished_as_over_http(workflow_env: WorkflowEnv) -> None:
    assert workflow_env.start("counter_workflow", "kit-id", instance_id="kit-chosen-1") == "kit-chosen-1"
    assert workflow_env.wait("kit-chosen-1").output == "Counter 'kit-id' final value: 12"
    workflow_env.start("approval_workflow", instance_id="kit-chosen-1")
    refused = refusal(lambda: workflow_env.start("approval_workflow", instance_id="kit-chosen-1"))
    assert (refused.field, refused.status, refused.message) == (
        "instance_id",
        409,
        "instance 'kit-chosen-1' is still running",
    )


def test_timers_fire_in_order_at_their_durable_times(clock_env: WorkflowEnv) -> None:
    result = clock_env.wait(clock_env.start("timeline", [5, 1, 3, 72]))
    assert [entry["timer"] for entry in result.output] == [1, 2, 0, 3]
    assert [round(entry["hours_later"], 2) for entry in result.output] == [1, 3, 5, 72]


def test_an_event_raised_before_waiting_arrives_before_any_timer(clock_env: WorkflowEnv) -> None:
    instance_id = clock_env.start("wait_or_timeout", 1)
    clock_env.raise_event(instance_id, "go")
    assert clock_env.wait(instance_id).output == "event"
    assert clock_env.wait(clock_env.start("wait_or_timeout", 1)).output == "timeout"


def test_advance_fires_the_timers_it_passes(clock_env: WorkflowEnv) -> None:
    instance_id = clock_env.start("wait_or_timeout", 2)
    clock_env.advance(timedelta(minutes=30))
    clock_env.raise_event(instance_id, "go")
    assert clock_env.wait(instance_id).output == "event"
    late = clock_env.start("wait_or_timeout", 2)
    wait_until(lambda: any("timerCreated" in event for event in clock_env.history(late)["events"]))
    before = clock_env.now()
    clock_env.advance(timedelta(hours=3))
    assert clock_env.now() - before >= timedelta(hours=3)
    clock_env.raise_event(late, "go")
    assert clock_env.wait(late).output == "timeout"
    with pytest.raises(ValueError, match="only moves forward"):
        clock_env.advance(timedelta(seconds=-1))


def test_time_never_skips_while_an_activity_runs(clock_env: WorkflowEnv) -> None:
    release = threading.Event()
    clock_env.fake_activity("slow_step", lambda ctx, value: release.wait(30) and "done")
    instance_id = clock_env.start("hold_up", 1)
    with pytest.raises(TimeoutError, match="still Running"):
        clock_env.wait(instance_id, timeout=0.3)
    release.set()
    assert clock_env.wait(instance_id).output == "work"
    assert clock_env.calls("slow_step") == [None]


def test_the_environment_points_the_apps_settings_at_itself_and_back() -> None:
    before = os.environ.get("DURABLE_TASK_SCHEDULER_CONNECTION_STRING")
    with WorkflowEnv() as env:
        inside = os.environ["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"]
        assert f":{env.port}" in inside
    assert os.environ.get("DURABLE_TASK_SCHEDULER_CONNECTION_STRING") == before


def test_an_environment_outside_with_says_how_to_use_it() -> None:
    with pytest.raises(RuntimeError, match="inside `with WorkflowEnv"):
        WorkflowEnv().start("counter_workflow", "k")


def test_a_fake_replaces_the_activity_for_its_environment_only(workflow_env: WorkflowEnv) -> None:
    def tenfold(ctx: task.ActivityContext, item: int) -> dict[str, int]:
        return {"item": item, "result": item * 10}

    workflow_env.fake_activity("process_work_item", tenfold)
    result = workflow_env.wait(workflow_env.start("fan_out_fan_in_orchestrator", {"items": [1, 2]}))
    assert result.output == {"total_items": 2, "sum": 30, "average": 15}
    with WorkflowEnv() as other:
        other.fake_activity("process_work_item", lambda ctx, item: {"item": item, "result": item * item})
        assert other.calls("process_work_item") == []
    assert workflow_env.calls("process_work_item") in ([1, 2], [2, 1])


def test_a_timer_rearmed_from_the_persistent_store_is_skipped_to(tmp_path: Path) -> None:
    data_file = tmp_path / "scheduler.db"
    with WorkflowEnv(clock_workflows, data_file=data_file) as first:
        instance_id = first.start("timeline", [48])
        wait_until(lambda: any("timerCreated" in event for event in first.history(instance_id)["events"]))
    with WorkflowEnv(clock_workflows, data_file=data_file) as second:
        result = second.wait(instance_id)
    assert [round(entry["hours_later"], 2) for entry in result.output] == [48]


def test_entity_state_reads_after_the_signals_sent_before_it(workflow_env: WorkflowEnv) -> None:
    for amount in (5, 2, 30):
        workflow_env.signal("counter", "kit-signalled", "add", amount)
    workflow_env.signal("counter", "kit-signalled", "subtract", 7)
    assert workflow_env.entity_state("counter", "kit-signalled") == 30
    assert workflow_env.entity_state("counter", "kit-never-signalled") is None


def test_an_environment_runs_once_at_a_time_and_refuses_use_after_it_stopped() -> None:
    env = WorkflowEnv()
    with env:
        with pytest.raises(RuntimeError, match="running already"):
            env.__enter__()
        instance_id = env.start("counter_workflow", "kit-once")
    with pytest.raises(RuntimeError, match="not running"):
        env.wait(instance_id)
    with pytest.raises(RuntimeError, match="not running"):
        env.advance(timedelta(hours=1))
