"""An instance's history in Durable Functions' ``historyEvents`` shape (``GET /instances/{id}?showHistory=true``).

Durable Functions' extension answers each event with PascalCase fields: ``EventType`` and ``Timestamp``;
``FunctionName`` on ``ExecutionStarted`` and on task and sub-orchestration events, whose ``...Scheduled`` /
``...Created`` event is folded into the ``...Completed`` / ``...Failed`` one that ends it (``ScheduledTime``
then says when it was scheduled); ``OrchestrationStatus`` by name on ``ExecutionCompleted``; ``Reason`` and
``Details`` for failures; payloads as JSON values. ``OrchestratorStarted`` / ``OrchestratorCompleted`` (replay
bookkeeping) are left out, as are event ids, versions, tags and trace context. Results appear only with
``showHistoryOutput``; the orchestration's input (on ``ExecutionStarted``) only with ``showInput``, and inputs of
scheduled work never, as in Durable Functions.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from durabletask import history
from durabletask.client import OrchestrationStatus
from durabletask.task import FailureDetails

from durable_app.scheduler import status_name
from durable_app.values import utc_iso

_LEFT_OUT = (history.OrchestratorStartedEvent, history.OrchestratorCompletedEvent)
_STARTS = (history.TaskScheduledEvent, history.SubOrchestrationInstanceCreatedEvent)
_ENDS = (
    history.TaskCompletedEvent,
    history.TaskFailedEvent,
    history.SubOrchestrationInstanceCompletedEvent,
    history.SubOrchestrationInstanceFailedEvent,
)
_REASON_INPUTS = (history.ExecutionTerminatedEvent, history.ExecutionSuspendedEvent, history.ExecutionResumedEvent)
"""Events whose input is the reason a caller gave, not a payload."""

_WORK_INPUTS = (*_STARTS, history.EventRaisedEvent, history.EventSentEvent)
"""Events whose input Durable Functions never shows in a history."""

_NOT_SHOWN = {"event_id", "timestamp", "version", "tags", "parent_trace_context", "orchestration_span_id",
              "orchestration_instance", "parent_instance", "timer_id", "task_scheduled_id", "recurse"}  # fmt: skip
_OUTPUTS = {"result", "output"}
_PAYLOADS = {"input", "result", "output", "data"}


def history_events(events: list[history.HistoryEvent], *, with_outputs: bool, show_input: bool) -> list[dict[str, Any]]:
    """``events`` as Durable Functions' ``historyEvents``, in order, each start folded into the end it had."""
    bodies: list[dict[str, Any]] = []
    starts: dict[tuple[bool, int], int] = {}  # (sub-orchestration?, scheduling event id) -> index in bodies
    folded: set[int] = set()
    for event in events:
        if isinstance(event, _LEFT_OUT):
            continue
        body = _event_body(event, with_outputs=with_outputs, show_input=show_input)
        if isinstance(event, _STARTS):
            starts[(_is_sub_orchestration(event), event.event_id)] = len(bodies)
        elif isinstance(event, _ENDS):
            start = starts.pop((_is_sub_orchestration(event), event.task_scheduled_id), None)
            if start is not None:
                folded.add(start)
                scheduled = bodies[start]
                body = {**body, "FunctionName": scheduled["FunctionName"], "ScheduledTime": scheduled["Timestamp"]}
        bodies.append(body)
    return [body for index, body in enumerate(bodies) if index not in folded]


def _event_body(event: history.HistoryEvent, *, with_outputs: bool, show_input: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "EventType": type(event).__name__.removesuffix("Event"),
        "Timestamp": utc_iso(event.timestamp),
    }
    for field in dataclasses.fields(event):
        name, value = field.name, getattr(event, field.name)
        if name in _NOT_SHOWN or value is None or not _shown(event, name, with_outputs, show_input):
            continue
        body.update(_field(event, name, value))
    return body


def _shown(event: history.HistoryEvent, name: str, with_outputs: bool, show_input: bool) -> bool:
    if name in _OUTPUTS:
        return with_outputs
    if name == "input":
        return isinstance(event, _REASON_INPUTS) or (show_input and not isinstance(event, _WORK_INPUTS))
    return True


def _field(event: history.HistoryEvent, name: str, value: Any) -> dict[str, Any]:
    """One event field in Durable Functions' spelling and form."""
    if name == "name" and isinstance(event, (history.ExecutionStartedEvent, *_STARTS)):
        return {"FunctionName": value}
    if name == "orchestration_status":
        return {"OrchestrationStatus": status_name(OrchestrationStatus(value))}
    if name == "failure_details":
        return _failure(value)
    if name == "input" and isinstance(event, _REASON_INPUTS):
        return {"Reason": _decoded(value)}
    if name in _PAYLOADS:
        return {"Result" if name in _OUTPUTS else _pascal(name): _decoded(value)}
    return {_pascal(name): utc_iso(value) if isinstance(value, datetime) else value}


def _failure(details: FailureDetails | None) -> dict[str, Any]:
    """A failure as Durable Functions reports one: ``Reason`` the message, ``Details`` the error and its trace."""
    if details is None:
        return {}
    trace = f"\n{details.stack_trace}" if details.stack_trace else ""
    return {"Reason": details.message, "Details": f"{details.error_type}: {details.message}{trace}"}


def _is_sub_orchestration(event: history.HistoryEvent) -> bool:
    return isinstance(
        event,
        (
            history.SubOrchestrationInstanceCreatedEvent,
            history.SubOrchestrationInstanceCompletedEvent,
            history.SubOrchestrationInstanceFailedEvent,
        ),
    )


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _decoded(serialized: Any) -> Any:
    """Payloads are JSON text on the wire; answer with the value (text that is not JSON as it is)."""
    if not isinstance(serialized, str):
        return serialized
    try:
        return json.loads(serialized)
    except json.JSONDecodeError:
        return serialized
