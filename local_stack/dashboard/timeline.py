"""An orchestration's history as the steps a person reads: activities with their timing, timers, events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from durabletask import history as h
from durabletask import task
from durabletask.client import OrchestrationStatus

from durable_app.scheduler import status_name


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
    failure: task.FailureDetails | None = None
    target: str | None = None
    """A sub-orchestration's instance id, or the entity an operation goes to: the page links to it."""

    @property
    def duration_ms(self) -> float | None:
        return None if self.ended is None else (self.ended - self.started).total_seconds() * 1000


@dataclass(frozen=True)
class Span:
    """Where a step sits on the orchestration's time axis, as fractions of the whole (for the bar chart)."""

    offset: float
    width: float


ORCHESTRATION = "orchestration"
"""The key the orchestration's own row waits under, from its start to its completion (or continue-as-new)."""


def timeline(events: list[h.HistoryEvent]) -> list[Step]:
    """Pair each scheduled task, timer or entity call with its outcome; keep the rest as moments, in order.

    Tasks and timers are paired by the scheduling event's id, entity calls by their request id, and the
    orchestration's start with its end: one row spans the whole run.
    """
    steps: list[Step] = []
    pending: dict[int | str, Step] = {}
    for event in events:
        step = _step(event, pending)
        if step is not None:
            steps.append(step)
    if any(isinstance(event, h.ExecutionCompletedEvent | h.ContinueAsNewEvent) for event in events):
        for step in pending.values():  # a terminated orchestration never records these outcomes
            step.status = "Abandoned"
    return steps


def spans(steps: list[Step], now: datetime) -> list[Span]:
    """Each step's place between the first start and the last moment: ``now`` while a step still runs."""
    if not steps:
        return []
    start = min(step.started for step in steps)
    end = max(moment for step in steps for moment in (step.started, step.ended) if moment is not None)
    if any(step.status == "Running" for step in steps):
        end = max(end, now)
    whole = (end - start).total_seconds() or 1.0
    return [
        Span(
            offset=(step.started - start).total_seconds() / whole,
            width=((step.ended or end) - step.started).total_seconds() / whole,
        )
        for step in steps
    ]


def _step(event: h.HistoryEvent, pending: dict[int | str, Step]) -> Step | None:
    at = event.timestamp
    if isinstance(event, h.ExecutionStartedEvent):
        return _open(pending, ORCHESTRATION, Step("orchestration", event.name, at, input=event.input))
    if isinstance(event, h.TaskScheduledEvent):
        return _open(pending, event.event_id, Step("activity", event.name, at, input=event.input))
    if isinstance(event, h.SubOrchestrationInstanceCreatedEvent):
        step = Step("sub-orchestration", event.name, at, input=event.input, target=event.instance_id)
        return _open(pending, event.event_id, step)
    if isinstance(event, h.TimerCreatedEvent):
        return _open(pending, event.event_id, Step("timer", f"until {event.fire_at:%H:%M:%S}", at))
    if isinstance(event, h.TaskCompletedEvent | h.SubOrchestrationInstanceCompletedEvent):
        return _finish(pending, event.task_scheduled_id, at, "Completed", event.result)
    if isinstance(event, h.TaskFailedEvent | h.SubOrchestrationInstanceFailedEvent):
        return _fail(pending, event.task_scheduled_id, at, event.failure_details)
    if isinstance(event, h.TimerFiredEvent):
        return _finish(pending, event.timer_id, at, "Fired", None)
    if isinstance(event, h.EventRaisedEvent):
        return Step("event received", event.name, at, at, "Received", input=event.input)
    if isinstance(event, h.EventSentEvent):
        name = f"{event.name} -> {event.instance_id}"
        return Step(_sent_kind(event.instance_id), name, at, at, "Sent", event.input, target=event.instance_id)
    if isinstance(event, h.EntityOperationSignaledEvent):
        name = f"{event.operation} -> {event.target_instance_id}"
        return Step("entity signal", name, at, at, "Sent", event.input, target=event.target_instance_id)
    if isinstance(event, h.EntityOperationCalledEvent):
        name = f"{event.operation} -> {event.target_instance_id}"
        step = Step("entity call", name, at, input=event.input, target=event.target_instance_id)
        return _open(pending, event.request_id, step)
    if isinstance(event, h.EntityOperationCompletedEvent):
        return _finish(pending, event.request_id, at, "Completed", event.output)
    if isinstance(event, h.EntityOperationFailedEvent):
        return _fail(pending, event.request_id, at, event.failure_details)
    if isinstance(event, h.EntityLockRequestedEvent):
        return Step("entity lock", ", ".join(event.lock_set), at, at, "Requested")
    if isinstance(event, h.ExecutionRewoundEvent):
        return Step("lifecycle", "Rewound", at, at, "Rewound", input=event.reason)
    if isinstance(event, h.ExecutionSuspendedEvent | h.ExecutionResumedEvent | h.ExecutionTerminatedEvent):
        label = type(event).__name__.removeprefix("Execution").removesuffix("Event")
        return Step("lifecycle", label, at, at, label, input=event.input)
    if isinstance(event, h.ContinueAsNewEvent):
        return _finish(pending, ORCHESTRATION, at, "ContinuedAsNew", event.input)
    if isinstance(event, h.ExecutionCompletedEvent):
        return _finish(pending, ORCHESTRATION, at, _completion_status(event), event.result, event.failure_details)
    return None


def _open(pending: dict[int | str, Step], key: int | str, step: Step) -> Step:
    pending[key] = step
    return step


def _finish(
    pending: dict[int | str, Step],
    key: int | str,
    at: datetime,
    status: str,
    output: str | None,
    failure: task.FailureDetails | None = None,
) -> None:
    """Close the step ``key`` opened; the outcome adds no row of its own."""
    step = pending.pop(key, None)
    if step is not None:
        step.ended, step.status, step.output, step.failure = at, status, output, failure


def _fail(pending: dict[int | str, Step], key: int | str, at: datetime, details: task.FailureDetails | None) -> None:
    return _finish(pending, key, at, "Failed", None, details)


def _sent_kind(target: str) -> str:
    """Entity operations from orchestrations travel as events to ``@name@key`` instances."""
    return "entity operation" if target.startswith("@") else "event sent"


def _completion_status(event: h.ExecutionCompletedEvent) -> str:
    return status_name(OrchestrationStatus(event.orchestration_status))


BAR_KINDS = frozenset({"activity", "sub-orchestration", "timer", "entity call"})
"""The steps that take time and get a bar in the timeline panel; the rest are moments in the history table."""


@dataclass(frozen=True)
class Bar:
    """One bar of the timeline panel: a step, or a run of consecutive steps merged when there are many."""

    label: str
    started: datetime
    ended: datetime | None
    status: str
    span: Span
    count: int = 1


def bars(steps: list[Step], now: datetime, limit: int) -> list[Bar]:
    """The timed steps on the orchestration's time axis, at most ``limit`` bars.

    A fan-out of 1,000 items gets 1,000 bars only up to ``limit``; past it, consecutive steps (in the order they
    were scheduled) share a bar from the first start to the last end, coloured by the worst outcome among them,
    so the panel keeps its size and still shows when the work ran and what failed.
    """
    timed = [(step, span) for step, span in zip(steps, spans(steps, now), strict=True) if step.kind in BAR_KINDS]
    size = max(1, -(-len(timed) // limit))
    return [_merged(timed[first : first + size]) for first in range(0, len(timed), size)]


OUTCOME_ORDER = ("Failed", "Running", "Abandoned", "Completed", "Fired")


def _merged(group: list[tuple[Step, Span]]) -> Bar:
    steps = [step for step, _ in group]
    first, last = min(span.offset for _, span in group), max(span.offset + span.width for _, span in group)
    ended = None if any(step.ended is None for step in steps) else max(step.ended for step in steps if step.ended)
    statuses = {step.status for step in steps}
    status = next((s for s in OUTCOME_ORDER if s in statuses), steps[0].status)
    names = sorted({step.name for step in steps})
    label = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
    return Bar(label, min(step.started for step in steps), ended, status, Span(first, last - first), len(steps))
