"""SDK history events as protocol messages: the direct build gives what the recorded document's JSON gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from durabletask import history as h
from durabletask import task
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.internal.history_helpers import collect_history_events

from durable_app.scheduler.history_format import history_of, load, protocol_event, protocol_events

RECORDED = sorted((Path(__file__).parents[1] / "kit" / "histories").glob("*.json"))
START = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def sdk_events(messages: list[pb.HistoryEvent]) -> list[h.HistoryEvent]:
    """The messages as the SDK's history call returns them."""
    return collect_history_events([pb.HistoryChunk(events=messages)])


def rich_events() -> list[h.HistoryEvent]:
    """Every kind of field the protocol's events carry: wrappers, nested messages, maps, lists, times, enums."""
    at = START + timedelta(seconds=3)
    cause = task.FailureDetails("disk full", "OSError", "Traceback ...", None, {"attempt": 2, "retry": True})
    failure = task.FailureDetails("copy failed", "RuntimeError", None, cause, {"path": "/data", "sizes": [1, 2.5]})
    parent = h.ParentInstanceInfo(4, "parent", "1.0", h.OrchestrationInstance("parent-1", "exec-1"))
    trace = h.TraceContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "b7ad6b7169203331", "k=v")
    return [
        h.ExecutionStartedEvent(
            -1,
            START,
            name="child",
            version="2.0",
            input='{"a": 1}',
            orchestration_instance=h.OrchestrationInstance("child-1", "exec-2"),
            parent_instance=parent,
            scheduled_start_timestamp=at,
            parent_trace_context=trace,
            orchestration_span_id="b7ad6b7169203331",
            tags={"team": "billing"},
        ),
        h.TaskScheduledEvent(0, START, "copy", "1.1", "[1]", trace, {"kind": "io"}),
        h.TaskFailedEvent(-1, at, task_scheduled_id=0, failure_details=failure),
        h.EntityLockRequestedEvent(1, at, "section-1", ["@counter@a", "@counter@b"], 0, "child-1"),
        h.EntityOperationCalledEvent(2, at, "request-1", "get", at, None, "child-1", "exec-2", "@counter@a"),
        h.TimerFiredEvent(-1, at, fire_at=at, timer_id=3),
        h.ExecutionSuspendedEvent(-1, at, input="a pause"),
        h.ExecutionCompletedEvent(-1, at, orchestration_status=3, failure_details=failure),
        h.HistoryStateEvent(-1, at, {"instanceId": "child-1", "name": "child"}),
    ]


@pytest.mark.parametrize("path", RECORDED, ids=lambda path: path.stem)
def test_each_recorded_event_is_built_as_its_document_gives_it(path: Path) -> None:
    events = sdk_events(protocol_events(load(path)))
    assert [protocol_event(event) for event in events] == protocol_events(history_of("o", "i", events))


def test_every_kind_of_field_is_built_as_the_json_gives_it() -> None:
    events = rich_events()
    built = [protocol_event(event) for event in events]
    assert built == protocol_events(history_of("o", "i", events))
    assert sdk_events(built) == events  # and the SDK reads back what it was given
