"""Each shipped workflow through the kit, at its real time scale: a day-long approval, an hourly monitor."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from durabletask import task

if TYPE_CHECKING:
    from durable_app.testing import WorkflowEnv


DAY = 24 * 3600


@pytest.fixture(autouse=True)
def instant_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Work items without the seed's simulated I/O (the environment re-reads the app's settings)."""
    monkeypatch.setenv("WORK_ITEM_DELAY_MIN_SECONDS", "0")
    monkeypatch.setenv("WORK_ITEM_DELAY_MAX_SECONDS", "0")


def step_times(env: WorkflowEnv, instance_id: str) -> list[datetime]:
    """The durable time of each orchestrator step in the instance's history."""
    events = env.history(instance_id)["events"]
    return [datetime.fromisoformat(event["timestamp"]) for event in events if "orchestratorStarted" in event]


def test_fan_out_fan_in_squares_and_sums(workflow_env: WorkflowEnv) -> None:
    result = workflow_env.wait(workflow_env.start("fan_out_fan_in_orchestrator", {"items": [1, 2, 3, 4]}))
    assert (result.status, result.output) == ("Completed", {"total_items": 4, "sum": 30, "average": 7.5})
    assert sorted(workflow_env.calls("process_work_item")) == [1, 2, 3, 4]
    assert len(workflow_env.calls("aggregate_results")) == 1


def test_a_failing_work_item_fails_the_fan_out_with_its_error(workflow_env: WorkflowEnv) -> None:
    def flaky(ctx: task.ActivityContext, item: int) -> dict[str, int]:
        if item == 3:
            raise ConnectionError("downstream unavailable for item 3")
        return {"item": item, "result": item * item}

    workflow_env.fake_activity("process_work_item", flaky)
    result = workflow_env.wait(workflow_env.start("fan_out_fan_in_orchestrator", {"items": [1, 2, 3]}))
    assert result.status == "Failed"
    assert result.failure is not None and "downstream unavailable for item 3" in result.failure.message
    assert workflow_env.calls("aggregate_results") == []


def test_counter_workflow_reports_the_sample_value(workflow_env: WorkflowEnv) -> None:
    result = workflow_env.wait(workflow_env.start("counter_workflow", "kit-counter"))
    assert result.output == "Counter 'kit-counter' final value: 12"
    assert workflow_env.entity_state("counter", "kit-counter") == 12


def test_approval_times_out_after_a_full_day(workflow_env: WorkflowEnv) -> None:
    instance_id = workflow_env.start("approval_workflow", {"subject": "invoice 7", "timeout_seconds": DAY})
    result = workflow_env.wait(instance_id)
    assert (result.status, result.output) == ("Completed", {"subject": "invoice 7", "outcome": "timed_out"})
    assert result.custom_status == {"state": "timed_out", "subject": "invoice 7"}
    first, *_, last = step_times(workflow_env, instance_id)
    assert last - first >= timedelta(days=1)


def test_a_decision_raised_before_waiting_wins_over_the_deadline(workflow_env: WorkflowEnv) -> None:
    instance_id = workflow_env.start("approval_workflow", {"subject": "po 1", "timeout_seconds": DAY})
    workflow_env.raise_event(instance_id, "approval", {"approved": False})
    result = workflow_env.wait(instance_id)
    assert result.output == {"subject": "po 1", "outcome": "rejected"}
    first, *rest = step_times(workflow_env, instance_id)
    assert all(later - first < timedelta(days=1) for later in rest)


def test_an_approval_late_in_the_day_still_counts(workflow_env: WorkflowEnv) -> None:
    instance_id = workflow_env.start("approval_workflow", {"timeout_seconds": DAY})
    workflow_env.raise_event(instance_id, "approval", {"maybe": True})
    workflow_env.advance(timedelta(hours=23))
    workflow_env.raise_event(instance_id, "approval", {"approved": True})
    result = workflow_env.wait(instance_id)
    assert result.output == {"subject": "request", "outcome": "approved"}
    first, *_, last = step_times(workflow_env, instance_id)
    assert timedelta(hours=23) <= last - first < timedelta(days=1)


def test_monitor_gives_up_after_its_hourly_rounds(workflow_env: WorkflowEnv) -> None:
    request = {"entity_key": "kit-watched", "target": 5, "interval_seconds": 3600, "max_rounds": 24}
    result = workflow_env.wait(workflow_env.start("monitor_workflow", request))
    assert result.output == {"entity_key": "kit-watched", "outcome": "gave_up", "rounds": 24, "value": None}
    assert workflow_env.calls("read_counter") == ["kit-watched"] * 24


def test_monitor_sees_the_target_reached_between_rounds(workflow_env: WorkflowEnv) -> None:
    readings = iter([1, 3, 8])
    workflow_env.fake_activity("read_counter", lambda ctx, key: next(readings))
    request = {"entity_key": "kit-rising", "target": 5, "interval_seconds": 3600, "max_rounds": 10}
    instance_id = workflow_env.start("monitor_workflow", request)
    result = workflow_env.wait(instance_id)
    assert result.output == {"entity_key": "kit-rising", "outcome": "reached", "rounds": 3, "value": 8}
    assert result.custom_status == {"round": 3, "value": 8, "target": 5, "reached": True}


def test_monitor_reads_the_real_counter(workflow_env: WorkflowEnv) -> None:
    workflow_env.signal("counter", "kit-real", "add", 7)
    request = {"entity_key": "kit-real", "target": 7, "interval_seconds": 3600, "max_rounds": 3}
    result = workflow_env.wait(workflow_env.start("monitor_workflow", request))
    assert result.output == {"entity_key": "kit-real", "outcome": "reached", "rounds": 1, "value": 7}


def test_a_failing_monitor_read_fails_the_instance(workflow_env: WorkflowEnv) -> None:
    def unreachable(ctx: task.ActivityContext, key: str) -> Any:
        raise TimeoutError(f"counter {key} did not answer")

    workflow_env.fake_activity("read_counter", unreachable)
    result = workflow_env.wait(workflow_env.start("monitor_workflow", {"entity_key": "kit-down", "target": 1}))
    assert result.status == "Failed"
    assert result.failure is not None and "counter kit-down did not answer" in result.failure.message


def test_chunked_fan_out_combines_its_chunks(workflow_env: WorkflowEnv) -> None:
    result = workflow_env.wait(workflow_env.start("chunked_fan_out", {"items": list(range(1, 11)), "chunk_size": 3}))
    assert result.output == {"total_items": 10, "sum": 385, "average": 38.5}
    assert sorted(workflow_env.calls("process_work_item")) == list(range(1, 11))
    assert len(workflow_env.calls("aggregate_results")) == 4


def test_a_failing_chunk_names_its_items(workflow_env: WorkflowEnv) -> None:
    def broken(ctx: task.ActivityContext, item: int) -> Any:
        if item == 5:
            raise ValueError("item 5 is corrupt")
        return {"item": item, "result": item * item}

    workflow_env.fake_activity("process_work_item", broken)
    result = workflow_env.wait(workflow_env.start("chunked_fan_out", {"items": list(range(1, 7)), "chunk_size": 3}))
    assert result.status == "Failed"
    assert result.failure is not None and "chunk 1 (items 4..6, 3 items) failed" in result.failure.message


def test_transfer_moves_the_amount_between_counters(workflow_env: WorkflowEnv) -> None:
    workflow_env.signal("counter", "kit-from", "add", 50)
    request = {"source": "kit-from", "destination": "kit-to", "amount": 20}
    result = workflow_env.wait(workflow_env.start("transfer_workflow", request))
    assert result.output == {**request, "transferred": True, "source_before": 50}
    assert (workflow_env.entity_state("counter", "kit-from"), workflow_env.entity_state("counter", "kit-to")) == (
        30,
        20,
    )


def test_transfer_from_a_short_source_moves_nothing(workflow_env: WorkflowEnv) -> None:
    workflow_env.signal("counter", "kit-poor", "add", 5)
    request = {"source": "kit-poor", "destination": "kit-rich", "amount": 20}
    result = workflow_env.wait(workflow_env.start("transfer_workflow", request))
    assert result.output == {**request, "transferred": False, "source_before": 5}
    assert (workflow_env.entity_state("counter", "kit-poor"), workflow_env.entity_state("counter", "kit-rich")) == (
        5,
        None,
    )
