"""An orchestration's history as the steps a person reads: activities with their timing, timers, events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from durabletask import history as h
from durabletask.client import OrchestrationStatus


@dataclass
class Step:
    """One thing the orchestration did; ``ended`` stays ``None`` while it is in flight."""

    kind: str
    name: str
    started: datetime
    ended: datetime | None = None
    status: str = "Running"
    input: str | None = None
    output: str | None = None

    @property
    def duration_ms(self) -> float | None:
        return None if self.ended is None else (self.ended - self.started).total_seconds() * 1000


def timeline(events: list[h.HistoryEvent]) -> list[Step]:
    """Pair each scheduled task or timer with its outcome; keep the rest as single-moment steps, in order."""
    steps: list[Step] = []
    pending: dict[int, Step] = {}
    for event in events:
        step = _step(event, pending)
        if step is not None:
            steps.append(step)
    return steps


def _step(event: h.HistoryEvent, pending: dict[int, Step]) -> Step | None:
    at = event.timestamp
    if isinstance(event, h.ExecutionStartedEvent):
        return Step("orchestration", event.name, at, at, "Started", input=event.input)
    if isinstance(event, h.TaskScheduledEvent):
        pending[event.event_id] = Step("activity", event.name, at, input=event.input)
        return pending[event.event_id]
    if isinstance(event, h.SubOrchestrationInstanceCreatedEvent):
        pending[event.event_id] = Step("sub-orchestration", event.name, at, input=event.input)
        return pending[event.event_id]
    if isinstance(event, h.TimerCreatedEvent):
        pending[event.event_id] = Step("timer", f"until {event.fire_at:%H:%M:%S}", at)
        return pending[event.event_id]
    if isinstance(event, h.TaskCompletedEvent | h.SubOrchestrationInstanceCompletedEvent):
        return _finish(pending, event.task_scheduled_id, at, "Completed", event.result)
    if isinstance(event, h.TaskFailedEvent | h.SubOrchestrationInstanceFailedEvent):
        details = event.failure_details
        return _finish(pending, event.task_scheduled_id, at, "Failed", details and details.message)
    if isinstance(event, h.TimerFiredEvent):
        return _finish(pending, event.timer_id, at, "Fired", None)
    if isinstance(event, h.EventRaisedEvent):
        return Step("event received", event.name, at, at, "Received", input=event.input)
    if isinstance(event, h.EventSentEvent):
        return Step(_sent_kind(event.instance_id), f"{event.name} -> {event.instance_id}", at, at, "Sent", event.input)
    if isinstance(event, h.EntityOperationSignaledEvent):
        return Step("entity signal", f"{event.operation} -> {event.target_instance_id}", at, at, "Sent", event.input)
    if isinstance(event, h.EntityOperationCalledEvent):
        step = Step("entity call", f"{event.operation} -> {event.target_instance_id}", at, input=event.input)
        pending[_request_key(event.request_id)] = step
        return step
    if isinstance(event, h.EntityOperationCompletedEvent):
        return _finish(pending, _request_key(event.request_id), at, "Completed", event.output)
    if isinstance(event, h.ExecutionSuspendedEvent | h.ExecutionResumedEvent | h.ExecutionTerminatedEvent):
        label = type(event).__name__.removeprefix("Execution").removesuffix("Event")
        return Step("lifecycle", label, at, at, label, input=event.input)
    if isinstance(event, h.ExecutionCompletedEvent):
        details = event.failure_details
        output = event.result if details is None else f"{details.error_type}: {details.message}"
        return Step("orchestration", "finished", at, at, _completion_status(event), output=output)
    return None


def _finish(pending: dict[int, Step], key: int, at: datetime, status: str, output: str | None) -> None:
    """Close the step ``key`` opened; the outcome adds no row of its own."""
    step = pending.pop(key, None)
    if step is not None:
        step.ended, step.status, step.output = at, status, output


def _sent_kind(target: str) -> str:
    """Entity operations from orchestrations travel as events to ``@name@key`` instances."""
    return "entity operation" if target.startswith("@") else "event sent"


def _request_key(request_id: str) -> int:
    return hash(("entity-request", request_id))


def _completion_status(event: h.ExecutionCompletedEvent) -> str:
    return OrchestrationStatus(event.orchestration_status).name.title().replace("_", "")
