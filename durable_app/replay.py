"""Replay recorded histories against the current code: a change that breaks running instances fails here first.

A worker rebuilds an orchestration's state by re-running its code against the history on every step, so code
that now schedules other work than the history recorded breaks every instance started before the change.
:func:`replay` does what a worker does, with the SDK's own executor, and raises :class:`ReplayError` naming the
orchestrator, the step, what the history holds and what the code did now.

    python -m durable_app.replay record INSTANCE_ID [-o FILE]   # from the scheduler the app's settings reach
    python -m durable_app.replay check FILE...                  # exit 1 when any history no longer replays

``record`` reads the history through the SDK's public history call, so it works against the local scheduler
and DTS in Azure alike; the file is the JSON document of :mod:`durable_app.scheduler.history_format`.

The same replay names the external events an unfinished instance awaits (:func:`instance_waiting`, for
``GET /api/instances/{id}/waiting`` and the dashboard): its history never records them.
"""

from __future__ import annotations

import argparse
import bisect
import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Any

import grpc
from durabletask import history as h
from durabletask import task
from durabletask import worker as sdk_worker
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.serialization import DEFAULT_DATA_CONVERTER

from durable_app.scheduler.history_format import (
    HistoryFormatError,
    history_of,
    load,
    protocol_event,
    protocol_events,
    save,
)
from durable_app.scheduler.waiting import AwaitedEvent, Waiting, waiting
from durable_app.workflows import workflows

logger = logging.getLogger(__name__)

FAILED_STATUSES = {pb.ORCHESTRATION_STATUS_FAILED}
NON_DETERMINISM = "NonDeterminismError"
"""The SDK's failure type when replayed code asks for other work than its history holds."""


class ReplayError(AssertionError):
    """The code no longer replays a recorded history; the message says where and how they differ."""


def replay(history: Mapping[str, Any], orchestrator: Callable[..., Any] | None = None) -> None:
    """Re-run the current code of the history's orchestrator (or ``orchestrator``) against ``history``.

    ``history`` is a recorded document (:func:`durable_app.scheduler.history_format.load`,
    ``WorkflowEnv.history``). Raises
    :class:`ReplayError` when the code schedules other work than the history holds, or finishes otherwise.
    """
    name, events = _checked(history)
    function = orchestrator or _declared(name)
    if not any(event.HasField("executionStarted") for event in events):
        raise ReplayError(f"{name}: the history has no executionStarted event to replay from")
    steps = [index for index, event in enumerate(events) if event.HasField("orchestratorStarted")]

    def through(step: int) -> list[pb.OrchestratorAction]:
        """The code's actions at ``step`` (1-based), after replaying every step before it."""
        end = steps[step] if step < len(steps) else len(events)
        return _execute(
            name, function, history["instance_id"], events[: steps[step - 1]], events[steps[step - 1] : end]
        )

    actions = through(len(steps))
    if _divergence(actions) is not None:
        first = bisect.bisect_left(
            range(1, len(steps) + 1), True, key=lambda step: _divergence(through(step)) is not None
        )
        raise ReplayError(f"{name}, step {first + 1} of {len(steps)}: {_divergence(through(first + 1))}")
    completed = next((event.executionCompleted for event in events if event.HasField("executionCompleted")), None)
    if completed is not None:
        _check_completion(name, completed, actions, len(steps))


def _checked(history: Mapping[str, Any]) -> tuple[str, list[pb.HistoryEvent]]:
    """The orchestrator's name and the protocol events of a recorded document, or why it is not one."""
    if not isinstance(history, Mapping) or not all(key in history for key in ("orchestrator", "instance_id", "events")):
        raise HistoryFormatError("not a recorded history: it needs orchestrator, instance_id and events")
    return str(history["orchestrator"]), protocol_events(history)


def _declared(name: str) -> Callable[..., Any]:
    declaration = workflows.orchestrators.get(name)
    if declaration is None:
        raise ReplayError(
            f"no orchestrator named {name!r} is declared in this app; declared: {', '.join(workflows.orchestrators)}"
        )
    return declaration.worker_function()


def _execute(
    name: str, function: Callable[..., Any], instance_id: str, old: Sequence[Any], new: Sequence[Any]
) -> list[pb.OrchestratorAction]:
    """What the code asks for after the whole history, run by the SDK's executor as a worker runs it.

    The executor and its registry are the SDK's private classes (durabletask 1.12, pinned): this module is the one
    place the app uses them, because replaying is exactly what they do and nothing public does it.
    """
    registry = sdk_worker._Registry()
    registry.add_named_orchestrator(name, function)
    executor = sdk_worker._OrchestrationExecutor(registry, logger, DEFAULT_DATA_CONVERTER)
    return list(executor.execute(instance_id, old, new).actions)


def _divergence(actions: list[pb.OrchestratorAction]) -> str | None:
    """The SDK's account of where the code left the history (its NonDeterminismError), if it did."""
    for action in actions:
        details = action.completeOrchestration.failureDetails
        if action.HasField("completeOrchestration") and NON_DETERMINISM in details.errorType:
            return details.errorMessage
    return None


def _check_completion(
    name: str, completed: pb.ExecutionCompletedEvent, actions: list[pb.OrchestratorAction], steps: int
) -> None:
    """A finished history must finish the same way: same status, same output or failure, no work after it."""
    held = _completion_words(completed.orchestrationStatus, completed.result.value, completed.failureDetails)
    finishes = [action.completeOrchestration for action in actions if action.HasField("completeOrchestration")]
    other = [_action_words(action) for action in actions if not action.HasField("completeOrchestration")]
    where = f"{name}, step {steps} of {steps}: the history holds {held}"
    if other:
        raise ReplayError(f"{where}; the code now schedules {', '.join(other)}")
    if not finishes:
        raise ReplayError(f"{where}; the code now asks for nothing there (it finished or stopped at an earlier step)")
    done = finishes[0]
    now = _completion_words(done.orchestrationStatus, done.result.value, done.failureDetails)
    if now != held:
        raise ReplayError(f"{where}; the code now {now}")


def _completion_words(status: int, result: str, failure: pb.TaskFailureDetails) -> str:
    if status in FAILED_STATUSES:
        return f"failed with {failure.errorType}: {failure.errorMessage}"
    output = json.loads(result) if result else None
    status_name = pb.OrchestrationStatus.Name(status).removeprefix("ORCHESTRATION_STATUS_").lower()
    return f"{status_name} with output {json.dumps(output, sort_keys=True)}"


def _action_words(action: pb.OrchestratorAction) -> str:
    """``scheduleTask read_counter``: an action by kind and, where it has one, the name it calls."""
    kind = action.WhichOneof("orchestratorActionType") or "nothing"
    target = getattr(action, kind).name if kind in ("scheduleTask", "createSubOrchestration", "sendEvent") else ""
    return f"{kind} {target}".strip()


# --- the events an unfinished instance awaits ---


def instance_waiting(name: str, instance_id: str, history: Sequence[h.HistoryEvent]) -> Waiting:
    """What the instance waits for (:func:`durable_app.scheduler.waiting.waiting`), with the events it awaits.

    Never raises for the history's sake: where the orchestrator is not declared in this app, or its code no longer
    replays the history (another version's), the events awaited are unknown and the answer says why.
    """
    found = waiting(list(history))
    if found.finished:
        return found
    try:
        return replace(found, events_awaited=events_awaited(name, instance_id, history))
    except ReplayError as error:
        return replace(found, events_awaited_unknown=str(error))
    except Exception as error:  # the orchestrator's own code raised while replayed: any failure leaves names unknown
        reason = f"{name} does not replay its history: {type(error).__name__}: {error}"
        return replace(found, events_awaited_unknown=reason)


def events_awaited(
    name: str,
    instance_id: str,
    history: Sequence[h.HistoryEvent],
    orchestrator: Callable[..., Any] | None = None,
) -> list[AwaitedEvent]:
    """The external events the orchestrator waits for after ``history``, in the order it began waiting.

    The code of the history's orchestrator (or ``orchestrator``) is replayed as a worker rebuilds its state
    before a step: every event as a replayed one, so the code logs nothing and emits no span, and nothing it
    schedules runs. A wait counts while the code is suspended on it (alone, or inside ``when_any``/``when_all``
    or a deadline it yields); a wait it gave up (the loser of a race) does not. Raises :class:`ReplayError` when
    the orchestrator is not declared, and whatever the code raises when it no longer replays the history.
    """
    function = orchestrator or _declared(name)
    events = [protocol_event(event) for event in history]
    if not any(event.HasField("executionStarted") for event in events):
        return []  # not started yet: it awaits nothing so far
    if not any(event.HasField("orchestratorStarted") for event in events):
        raise ReplayError(f"{name}: the history has no orchestratorStarted event to replay from")
    registry = sdk_worker._Registry()
    registry.add_named_orchestrator(name, function)
    executor = sdk_worker._OrchestrationExecutor(registry, logger, DEFAULT_DATA_CONVERTER)
    context = _Listening(instance_id, registry)
    for event in events:
        executor.process_event(context, event)
    return context.awaited()


class _Listening(sdk_worker._RuntimeOrchestrationContext):
    """The SDK's orchestration context, noting each wait for an external event as the code asks for it.

    The SDK keeps pending waits by case-folded name only; noting them here keeps the name as the code wrote it,
    the order of the waits and the time of the step that began each. The context, its ``_previous_task`` (what
    the code is suspended on) and the tasks' ``_parents`` are the SDK's private parts (durabletask 1.12, pinned);
    ``tests/unit/test_events_awaited.py`` fails if they change.
    """

    def __init__(self, instance_id: str, registry: sdk_worker._Registry) -> None:
        super().__init__(instance_id, registry, DEFAULT_DATA_CONVERTER, logger=logger)
        self._waits: list[tuple[AwaitedEvent, task.CancellableTask[Any]]] = []

    def wait_for_external_event(self, name: str, *, data_type: type | None = None) -> task.CancellableTask[Any]:
        waited = super().wait_for_external_event(name, data_type=data_type)
        self._waits.append((AwaitedEvent(name, self.current_utc_datetime.replace(tzinfo=UTC)), waited))
        return waited

    def awaited(self) -> list[AwaitedEvent]:
        """The waits not yet answered that the code is suspended on, directly or through the tasks it yields."""
        if self._is_complete or self._generator is None:
            return []
        blocked_on = self._previous_task
        return [event for event, waited in self._waits if not waited.is_complete and _leads_to(waited, blocked_on)]


def _leads_to(waited: task.Task[Any], blocked_on: task.Task[Any] | None) -> bool:
    """Whether ``blocked_on`` completes through ``waited``: it is that task, or one of its unfinished parents.

    Composite tasks (``when_any``, ``when_all``, the app's deadlines) register with each unfinished child in the
    child's ``_parents`` and unregister once they finish, so a race's loser has no parent left.
    """
    seen: set[int] = set()
    pending = [waited]
    while pending:
        current = pending.pop()
        if current is blocked_on:
            return True
        if id(current) not in seen:
            seen.add(id(current))
            pending += current._parents.values()
    return False


# --- the command ---


def record(instance_id: str, output: Path | None) -> int:
    """Write an instance's history, read from the scheduler the app's connection settings name."""
    from durable_app.scheduler.client import shared_sync_client
    from durable_app.settings.reader import SettingsError

    try:
        client = shared_sync_client()
        state = client.get_orchestration_state(instance_id, fetch_payloads=False)
        if state is None:
            print(f"no instance {instance_id!r} on this scheduler", file=sys.stderr)
            return 1
        document = history_of(state.name, instance_id, client.get_orchestration_history(instance_id))
    except (SettingsError, grpc.RpcError) as error:
        print(f"cannot read {instance_id!r}: {_reason(error)}", file=sys.stderr)
        return 1
    if output is None:
        print(json.dumps(document, indent=1))
    else:
        save(document, output)
        print(f"recorded {len(document['events'])} events of {state.name} {instance_id} in {output}")
    return 0


def _reason(error: Exception) -> str:
    if isinstance(error, grpc.RpcError):
        return f"the scheduler answered {error.code().name}: {error.details()}"  # type: ignore[attr-defined]
    return str(error)


def check(paths: Sequence[Path]) -> int:
    """Replay each file; 1 when any does not replay or cannot be read."""
    failed = 0
    for path in paths:
        try:
            document = load(path)
            replay(document)
        except (HistoryFormatError, ReplayError) as error:
            failed += 1
            print(f"FAIL {path}: {error}")
            continue
        print(f"ok   {path}: {document['orchestrator']}, {len(document['events'])} events")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m durable_app.replay", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    recorder = commands.add_parser("record", help="record an instance's history")
    recorder.add_argument("instance_id")
    recorder.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    checker = commands.add_parser("check", help="replay recorded histories against the current code")
    checker.add_argument("files", nargs="+", type=Path)
    arguments = parser.parse_args(argv)
    if arguments.command == "record":
        return record(arguments.instance_id, arguments.output)
    return check(arguments.files)


if __name__ == "__main__":
    sys.exit(main())
