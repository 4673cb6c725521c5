"""What an instance waits for, from the SDK's own history event types (``durable_app.scheduler.waiting``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from durabletask import history as h
from durabletask import task
from durabletask.client import OrchestrationStatus

from durable_app.scheduler.waiting import waiting

START = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_work_without_an_outcome_is_what_it_waits_for() -> None:
    boom = task.FailureDetails("no disk", "OSError", None)
    events: list[h.HistoryEvent] = [
        h.ExecutionStartedEvent(-1, at(0), name="parent"),
        h.TaskScheduledEvent(0, at(0), name="copy"),
        h.TaskScheduledEvent(1, at(1), name="copy"),
        h.TaskScheduledEvent(2, at(2), name="index"),
        h.SubOrchestrationInstanceCreatedEvent(3, at(3), instance_id="child-1", name="child"),
        h.SubOrchestrationInstanceCreatedEvent(4, at(3), instance_id="child-2", name="child"),
        h.TimerCreatedEvent(5, at(3), fire_at=at(600)),
        h.TimerCreatedEvent(6, at(3), fire_at=at(10)),
        h.EntityOperationCalledEvent(7, at(4), request_id="r1", operation="get", target_instance_id="@counter@k"),
        h.TaskCompletedEvent(-1, at(5), task_scheduled_id=0),
        h.TaskFailedEvent(-1, at(5), task_scheduled_id=2, failure_details=boom),
        h.SubOrchestrationInstanceFailedEvent(-1, at(6), task_scheduled_id=3, failure_details=boom),
        h.TimerFiredEvent(-1, at(10), fire_at=at(10), timer_id=6),
        h.EventRaisedEvent(-1, at(11), name="approval", input="{}"),
    ]
    found = waiting(events)
    assert [(item.kind, item.name, item.task_id, item.target) for item in found.work] == [
        ("activity", "copy", 1, None),
        ("sub-orchestration", "child", 4, "child-2"),
        ("entity call", "get", "r1", "@counter@k"),
    ]
    assert [(timer.task_id, timer.fire_at) for timer in found.timers] == [(5, at(600))]
    shown = found.to_json(now=at(100))
    assert shown["timers"] == [
        {"taskId": 5, "since": at(3).isoformat(), "fireAt": at(600).isoformat(), "secondsLeft": 500.0}
    ]
    assert shown["subOrchestrations"] == [
        {"name": "child", "taskId": 4, "since": at(3).isoformat(), "instanceId": "child-2"}
    ]
    assert shown["entityCalls"][0]["entity"] == "@counter@k"
    assert shown["eventsReceived"] == [{"name": "approval", "at": at(11).isoformat()}]
    assert (shown["finished"], shown["waitsForAnEvent"]) == (False, False)


def test_locks_are_requested_until_granted_and_held_until_released() -> None:
    section = "cs-1"
    requested = h.EntityLockRequestedEvent(
        1, at(0), critical_section_id=section, lock_set=["@counter@a", "@counter@b"], position=0
    )
    events: list[h.HistoryEvent] = [h.ExecutionStartedEvent(-1, at(0), name="transfer"), requested]
    assert (waiting(events).locks_requested, waiting(events).locks_held) == (["@counter@a", "@counter@b"], [])
    events.append(h.EntityLockGrantedEvent(-1, at(1), critical_section_id=section))
    assert (waiting(events).locks_requested, waiting(events).locks_held) == ([], ["@counter@a", "@counter@b"])
    events.append(h.EntityUnlockSentEvent(2, at(2), critical_section_id=section, target_instance_id="@counter@a"))
    assert waiting(events).locks_held == ["@counter@b"]
    events.append(h.EntityUnlockSentEvent(3, at(2), critical_section_id=section, target_instance_id="@counter@b"))
    found = waiting(events)
    assert (found.locks_held, found.nothing_in_flight) == ([], True)
    assert found.to_json(now=at(3))["waitsForAnEvent"] is True  # unfinished, nothing in flight


def test_a_finished_instance_waits_for_nothing() -> None:
    events: list[h.HistoryEvent] = [
        h.ExecutionStartedEvent(-1, at(0), name="o"),
        h.TaskScheduledEvent(0, at(0), name="never-answered"),
        h.TimerCreatedEvent(1, at(0), fire_at=at(60)),
        h.ExecutionCompletedEvent(-1, at(1), orchestration_status=OrchestrationStatus.TERMINATED.value),
    ]
    shown = waiting(events).to_json(now=at(2))
    assert shown["finished"] is True
    assert (shown["activities"], shown["timers"], shown["waitsForAnEvent"]) == ([], [], False)


def test_a_timer_past_its_time_has_no_time_left() -> None:
    events: list[h.HistoryEvent] = [h.TimerCreatedEvent(1, at(0), fire_at=at(5))]
    assert waiting(events).to_json(now=at(9))["timers"][0]["secondsLeft"] == 0.0
