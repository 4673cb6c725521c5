"""What an unfinished orchestration waits for, read from its history: the answer to "why is it stuck?".

The history pairs each piece of scheduled work with its outcome; whatever has no outcome yet is what the
instance waits for: activities and sub-orchestrations in flight, timers not yet fired, entity calls not yet
answered and entity locks requested but not granted (or held and not yet released), and the events received.
An orchestrator's wait for an external event leaves no trace in the history (in DTS and Durable Functions
alike): only replaying its code over the history names the events it awaits. That needs the app's
declarations, a room above this one, so :func:`durable_app.replay.instance_waiting` adds them; until it does,
the names are unknown and an instance with nothing in flight is taken to wait for an event. One module, so the
HTTP API (``GET /api/instances/{id}/waiting``) and the local dashboard say the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from durabletask import history as h

TASK_OUTCOMES = (
    h.TaskCompletedEvent,
    h.TaskFailedEvent,
    h.SubOrchestrationInstanceCompletedEvent,
    h.SubOrchestrationInstanceFailedEvent,
)


@dataclass(frozen=True)
class InFlight:
    """Work scheduled at ``since`` with no outcome yet; ``target`` is a sub-orchestration's or entity's id."""

    kind: str
    name: str
    since: datetime
    task_id: int | str
    target: str | None = None


@dataclass(frozen=True)
class PendingTimer:
    task_id: int
    since: datetime
    fire_at: datetime


@dataclass(frozen=True)
class Received:
    name: str
    at: datetime


@dataclass(frozen=True)
class AwaitedEvent:
    """An external event the orchestrator waits for, ``since`` the step (orchestrator run) that began the wait."""

    name: str
    since: datetime


NOT_REPLAYED = "the history records the events received, not those awaited: a replay of the orchestrator names them"


@dataclass
class Waiting:
    """Everything the instance's history shows unfinished, oldest first within each kind."""

    finished: bool = False
    work: list[InFlight] = field(default_factory=list)
    timers: list[PendingTimer] = field(default_factory=list)
    locks_requested: list[str] = field(default_factory=list)
    locks_held: list[str] = field(default_factory=list)
    events_received: list[Received] = field(default_factory=list)
    events_awaited: list[AwaitedEvent] | None = None
    """In the order the orchestrator began waiting; ``None`` while unknown."""
    events_awaited_unknown: str = NOT_REPLAYED
    """Why :attr:`events_awaited` is ``None`` (read only then)."""

    @property
    def nothing_in_flight(self) -> bool:
        return not (self.work or self.timers or self.locks_requested)

    @property
    def waits_for_an_event(self) -> bool:
        """Any event awaited; with the names unknown, an unfinished instance with nothing else in flight."""
        if self.finished:
            return False
        if self.events_awaited is not None:
            return bool(self.events_awaited)
        return self.nothing_in_flight

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The API's shape (camelCase, ISO times, seconds left on each timer at ``now``); the reason the awaited
        events are unknown appears only while they are."""
        shown: dict[str, Any] = {
            "finished": self.finished,
            "activities": [_work(item) for item in self.work if item.kind == "activity"],
            "subOrchestrations": [_work(item) for item in self.work if item.kind == "sub-orchestration"],
            "entityCalls": [_work(item) for item in self.work if item.kind == "entity call"],
            "timers": [
                {
                    "taskId": timer.task_id,
                    "since": timer.since.isoformat(),
                    "fireAt": timer.fire_at.isoformat(),
                    "secondsLeft": max(0.0, round((timer.fire_at - now).total_seconds(), 3)),
                }
                for timer in self.timers
            ],
            "entityLocks": {"requested": self.locks_requested, "held": self.locks_held},
            "eventsReceived": [{"name": event.name, "at": event.at.isoformat()} for event in self.events_received],
            "eventsAwaited": self._awaited_json(),
            "waitsForAnEvent": self.waits_for_an_event,
        }
        if self.events_awaited is None:
            shown["eventsAwaitedUnknownReason"] = self.events_awaited_unknown
        return shown

    def _awaited_json(self) -> list[dict[str, str]] | None:
        if self.events_awaited is None:
            return None
        return [{"name": event.name, "since": event.since.isoformat()} for event in self.events_awaited]


def waiting(events: list[h.HistoryEvent]) -> Waiting:
    """What ``events`` (one instance's history, oldest first) leave unfinished."""
    work: dict[int | str, InFlight] = {}
    timers: dict[int, PendingTimer] = {}
    requested: dict[str, list[str]] = {}
    held: dict[str, list[str]] = {}
    found = Waiting()
    for event in events:
        if isinstance(event, h.ExecutionCompletedEvent):
            return Waiting(finished=True, events_received=found.events_received, events_awaited=[])
        if isinstance(event, h.EventRaisedEvent):
            found.events_received.append(Received(event.name, event.timestamp))
        _opened(event, work, timers)
        _closed(event, work, timers)
        _locks(event, requested, held)
    found.work = sorted(work.values(), key=lambda item: item.since)
    found.timers = sorted(timers.values(), key=lambda timer: timer.fire_at)
    found.locks_requested = [entity for lock_set in requested.values() for entity in lock_set]
    found.locks_held = [entity for lock_set in held.values() for entity in lock_set]
    return found


def _opened(event: h.HistoryEvent, work: dict[int | str, InFlight], timers: dict[int, PendingTimer]) -> None:
    at = event.timestamp
    if isinstance(event, h.TaskScheduledEvent):
        work[event.event_id] = InFlight("activity", event.name, at, event.event_id)
    elif isinstance(event, h.SubOrchestrationInstanceCreatedEvent):
        work[event.event_id] = InFlight("sub-orchestration", event.name, at, event.event_id, event.instance_id)
    elif isinstance(event, h.EntityOperationCalledEvent):
        call = InFlight("entity call", event.operation, at, event.request_id, event.target_instance_id)
        work[event.request_id] = call
    elif isinstance(event, h.TimerCreatedEvent):
        timers[event.event_id] = PendingTimer(event.event_id, at, event.fire_at)


def _closed(event: h.HistoryEvent, work: dict[int | str, InFlight], timers: dict[int, PendingTimer]) -> None:
    if isinstance(event, TASK_OUTCOMES):
        work.pop(event.task_scheduled_id, None)
    elif isinstance(event, h.EntityOperationCompletedEvent | h.EntityOperationFailedEvent):
        work.pop(event.request_id, None)
    elif isinstance(event, h.TimerFiredEvent):
        timers.pop(event.timer_id, None)


def _locks(event: h.HistoryEvent, requested: dict[str, list[str]], held: dict[str, list[str]]) -> None:
    """A critical section's entities: requested until granted, then held until each unlock is sent."""
    if isinstance(event, h.EntityLockRequestedEvent):
        requested[event.critical_section_id] = list(event.lock_set)
    elif isinstance(event, h.EntityLockGrantedEvent):
        held[event.critical_section_id] = requested.pop(event.critical_section_id, [])
    elif isinstance(event, h.EntityUnlockSentEvent):
        still = [entity for entity in held.get(event.critical_section_id, []) if entity != event.target_instance_id]
        held[event.critical_section_id] = still


def _work(item: InFlight) -> dict[str, Any]:
    shown: dict[str, Any] = {"name": item.name, "taskId": item.task_id, "since": item.since.isoformat()}
    if item.kind == "sub-orchestration":
        shown["instanceId"] = item.target
    elif item.kind == "entity call":
        shown["entity"] = item.target
    return shown
