"""The history timeline over the SDK's own history event types: the kinds the app's orchestrations never make."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from durabletask import history as h
from durabletask import task
from durabletask.client import OrchestrationStatus

from local_stack.dashboard.timeline import spans, timeline

START = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_tasks_timers_and_sub_orchestrations_pair_with_their_outcomes_by_id() -> None:
    boom = task.FailureDetails("no disk", "OSError", None)
    events: list[h.HistoryEvent] = [
        h.ExecutionStartedEvent(-1, at(0), name="parent", input='"go"'),
        h.TaskScheduledEvent(0, at(0), name="copy", input="1"),
        h.TaskScheduledEvent(1, at(0), name="copy", input="2"),
        h.TimerCreatedEvent(2, at(0), fire_at=at(30)),
        h.SubOrchestrationInstanceCreatedEvent(3, at(1), instance_id="child-1", name="child"),
        h.TaskFailedEvent(-1, at(4), task_scheduled_id=1, failure_details=boom),
        h.TaskCompletedEvent(-1, at(5), task_scheduled_id=0, result='"copied"'),
        h.SubOrchestrationInstanceCompletedEvent(-1, at(6), task_scheduled_id=3, result="7"),
        h.TimerFiredEvent(-1, at(30), fire_at=at(30), timer_id=2),
        h.ExecutionCompletedEvent(4, at(30), orchestration_status=OrchestrationStatus.COMPLETED.value, result="1"),
    ]
    steps = timeline(events)
    assert [(s.kind, s.status) for s in steps] == [
        ("orchestration", "Completed"),
        ("activity", "Completed"),
        ("activity", "Failed"),
        ("timer", "Fired"),
        ("sub-orchestration", "Completed"),
    ]
    whole = steps[0]  # one row from start to completion, with the input it got and the output it gave
    assert (whole.name, whole.input, whole.output, whole.duration_ms) == ("parent", '"go"', "1", 30000)
    copied, failed, timer, child = steps[1:5]
    assert (copied.input, copied.output, copied.duration_ms) == ("1", '"copied"', 5000)
    assert (failed.output, failed.failure, failed.duration_ms) == (None, boom, 4000)
    assert (timer.name, timer.duration_ms) == ("until 12:00:30", 30000)
    assert (child.name, child.target, child.output, child.duration_ms) == ("child", "child-1", "7", 5000)


def test_events_entity_calls_and_lifecycle_are_shown_in_order() -> None:
    refused = task.FailureDetails("negative", "ValueError", None)
    events: list[h.HistoryEvent] = [
        h.ExecutionStartedEvent(-1, at(0), name="approval"),
        h.EntityOperationSignaledEvent(0, at(0), request_id="r0", operation="add", target_instance_id="@counter@k"),
        h.EntityOperationCalledEvent(1, at(0), request_id="r1", operation="get", target_instance_id="@counter@k"),
        h.EntityOperationCalledEvent(2, at(0), request_id="r2", operation="take", target_instance_id="@counter@k"),
        h.EntityOperationCompletedEvent(-1, at(1), request_id="r1", output="12"),
        h.EntityOperationFailedEvent(-1, at(2), request_id="r2", failure_details=refused),
        h.ExecutionSuspendedEvent(-1, at(3), input='"pause"'),
        h.ExecutionResumedEvent(-1, at(4)),
        h.EventRaisedEvent(-1, at(5), name="approved", input="true"),
        h.EventSentEvent(3, at(5), instance_id="other", name="done"),
        h.TaskScheduledEvent(4, at(6), name="notify"),
    ]
    steps = timeline(events)
    assert [(s.kind, s.name, s.status) for s in steps] == [
        ("orchestration", "approval", "Running"),
        ("entity signal", "add -> @counter@k", "Sent"),
        ("entity call", "get -> @counter@k", "Completed"),
        ("entity call", "take -> @counter@k", "Failed"),
        ("lifecycle", "Suspended", "Suspended"),
        ("lifecycle", "Resumed", "Resumed"),
        ("event received", "approved", "Received"),
        ("event sent", "done -> other", "Sent"),
        ("activity", "notify", "Running"),
    ]
    assert steps[2].output == "12"
    assert (steps[3].output, steps[3].failure) == (None, refused)
    assert steps[6].input == "true"
    assert steps[-1].ended is None
    assert steps[0].ended is None  # the orchestration row stays open while it runs


def test_continue_as_new_closes_the_orchestration_row() -> None:
    events: list[h.HistoryEvent] = [
        h.ExecutionStartedEvent(-1, at(0), name="loop", input="1"),
        h.ContinueAsNewEvent(-1, at(3), input="2"),
    ]
    [row] = timeline(events)
    assert (row.kind, row.status, row.output, row.duration_ms) == ("orchestration", "ContinuedAsNew", "2", 3000)


def test_spans_place_each_step_on_the_orchestration_time_axis() -> None:
    events: list[h.HistoryEvent] = [
        h.ExecutionStartedEvent(-1, at(0), name="o"),
        h.TaskScheduledEvent(0, at(0), name="a"),
        h.TaskCompletedEvent(-1, at(5), task_scheduled_id=0),
        h.TaskScheduledEvent(1, at(5), name="b"),
    ]
    placed = spans(timeline(events), now=at(10))
    assert [(p.offset, p.width) for p in placed] == [(0.0, 1.0), (0.0, 0.5), (0.5, 0.5)]  # o and b run at 10 s


def test_steps_a_finished_orchestration_left_open_are_abandoned() -> None:
    events: list[h.HistoryEvent] = [
        h.ExecutionStartedEvent(-1, at(0), name="o"),
        h.TaskScheduledEvent(0, at(0), name="slow"),
        h.ExecutionTerminatedEvent(-1, at(4), input='"stop"'),
        h.ExecutionCompletedEvent(1, at(4), orchestration_status=OrchestrationStatus.TERMINATED.value),
    ]
    steps = timeline(events)
    assert [(s.name, s.status) for s in steps] == [
        ("o", "Terminated"),
        ("slow", "Abandoned"),
        ("Terminated", "Terminated"),
    ]
    assert spans(steps, now=at(60))[1].width == 1.0  # drawn up to the end, not to the moment of looking
