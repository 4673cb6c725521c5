"""The external events an unfinished instance awaits, named by replaying its orchestrator over a hand-built history."""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from durabletask import history as h
from durabletask import task
from durabletask.client import OrchestrationStatus

from durable_app.replay import events_awaited, instance_waiting
from durable_app.scheduler.waiting import AwaitedEvent

START = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
INSTANCE = "approval-7"


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def step(seconds: float, *events: h.HistoryEvent) -> list[h.HistoryEvent]:
    """One orchestrator run as the scheduler records it: started, what happened, completed."""
    return [h.OrchestratorStartedEvent(-1, at(seconds)), *events, h.OrchestratorCompletedEvent(-1, at(seconds))]


def approval_started(timeout_seconds: float = 600) -> list[h.HistoryEvent]:
    """``approval_workflow``'s first step: its deadline timer (task 1), then it waits for ``approval``."""
    request = json.dumps({"subject": "invoice 7", "timeout_seconds": timeout_seconds})
    started = h.ExecutionStartedEvent(-1, at(0), name="approval_workflow", input=request)
    return step(0, started, h.TimerCreatedEvent(1, at(0), fire_at=at(timeout_seconds)))


def raised(seconds: float, name: str, data: Any) -> list[h.HistoryEvent]:
    return step(seconds, h.EventRaisedEvent(-1, at(seconds), name=name, input=json.dumps(data)))


def test_the_declared_approval_awaits_its_event_until_a_decision_arrives() -> None:
    history = approval_started()
    assert events_awaited("approval_workflow", INSTANCE, history) == [AwaitedEvent("approval", at(0))]

    history += raised(5, "approval", {"maybe": 1})  # not a decision: the workflow waits again, from that step
    assert events_awaited("approval_workflow", INSTANCE, history) == [AwaitedEvent("approval", at(5))]
    shown = instance_waiting("approval_workflow", INSTANCE, history).to_json(now=at(6))
    assert shown["eventsAwaited"] == [{"name": "approval", "since": at(5).isoformat()}]
    assert (shown["waitsForAnEvent"], len(shown["timers"])) == (True, 1)  # the event, and its deadline beside it
    assert "eventsAwaitedUnknownReason" not in shown

    history += raised(9, "approval", {"approved": True})
    assert events_awaited("approval_workflow", INSTANCE, history) == []


def test_waits_keep_their_names_and_order_and_a_lost_race_is_not_awaited() -> None:
    def two_waits(ctx: task.OrchestrationContext, _: Any) -> Generator[task.Task[Any], Any, str]:
        yield task.when_any([ctx.wait_for_external_event("Approval"), ctx.create_timer(timedelta(seconds=60))])
        yield task.when_all([ctx.wait_for_external_event("Second"), ctx.wait_for_external_event("First")])
        return "done"

    history = step(0, h.ExecutionStartedEvent(-1, at(0), name="two_waits"), h.TimerCreatedEvent(1, at(0), at(60)))
    assert events_awaited("two_waits", INSTANCE, history, two_waits) == [AwaitedEvent("Approval", at(0))]

    history += step(60, h.TimerFiredEvent(-1, at(60), fire_at=at(60), timer_id=1))  # the deadline won the race
    assert events_awaited("two_waits", INSTANCE, history, two_waits) == [
        AwaitedEvent("Second", at(60)),
        AwaitedEvent("First", at(60)),
    ]

    history += raised(70, "first", None)  # names match in any case, as the SDK matches them
    assert events_awaited("two_waits", INSTANCE, history, two_waits) == [AwaitedEvent("Second", at(60))]


def test_an_orchestrator_this_app_does_not_declare_leaves_the_names_unknown() -> None:
    history = step(0, h.ExecutionStartedEvent(-1, at(0), name="elsewhere_workflow"))
    shown = instance_waiting("elsewhere_workflow", INSTANCE, history).to_json(now=at(1))
    assert shown["eventsAwaited"] is None
    assert shown["eventsAwaitedUnknownReason"].startswith(
        "no orchestrator named 'elsewhere_workflow' is declared in this app; declared: approval_workflow, "
    )
    assert shown["waitsForAnEvent"] is True  # unfinished with nothing in flight: it can only wait for an event


def test_a_history_the_code_no_longer_replays_leaves_the_names_unknown_without_an_error_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    request = json.dumps({"subject": "invoice 7"})
    started = h.ExecutionStartedEvent(-1, at(0), name="approval_workflow", input=request)
    history = step(0, started, h.TaskScheduledEvent(1, at(0), name="notify_approvers"))  # what an older version did
    with caplog.at_level(logging.DEBUG):
        found = instance_waiting("approval_workflow", INSTANCE, history)
    assert found.events_awaited is None
    assert found.events_awaited_unknown.startswith("approval_workflow does not replay its history: NonDeterminismError")
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []


def test_an_instance_not_yet_started_or_finished_awaits_nothing() -> None:
    assert events_awaited("approval_workflow", INSTANCE, []) == []
    finished = [
        *approval_started(),
        h.ExecutionCompletedEvent(-1, at(1), orchestration_status=OrchestrationStatus.TERMINATED.value),
    ]
    shown = instance_waiting("approval_workflow", INSTANCE, finished).to_json(now=at(2))
    assert (shown["finished"], shown["eventsAwaited"], shown["waitsForAnEvent"]) == (True, [], False)
