"""Durable timers and delayed signals on the scheduler's own clock, and skipping the time nothing happens in.

The backend stamps each dispatch with the wall clock and fires each timer from a thread sleeping in real time.
:class:`ClockedTimers` puts both on one :class:`~local_stack.scheduler.clock.SchedulerClock`: dispatches carry
the clock's time (what orchestrations read as ``ctx.current_utc_datetime``), timers and delayed entity signals
wait on it, and :meth:`ClockedTimers.skip_idle_time` jumps it to the next timer when no work is waiting or
under way anywhere, which is how the workflow test kit runs a week-long wait in milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import grpc
from durabletask.internal import helpers
from durabletask.internal import orchestrator_service_pb2 as pb

from local_stack.scheduler.backend import InMemoryOrchestrationBackend, OrchestrationInstance
from local_stack.scheduler.clock import SchedulerClock


class ClockedTimers(InMemoryOrchestrationBackend):
    """The backend with its timers, delayed signals and dispatch times on :attr:`clock`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.clock = SchedulerClock()

    def stop(self, grace: float | None = None) -> None:
        super().stop(grace)
        self.clock.stop()

    def skip_idle_time(self) -> bool:
        """Move the clock to the next timer and fire it, if no work is waiting for or held by a worker.

        Whether the clock moved. Nothing moves while an orchestration has events to process, an activity or
        entity operation is queued or running, a finished sub-orchestration is not yet reported to its parent,
        or a timer is firing: the time skipped is time in which nothing but waiting would have happened.
        """
        with self._lock:
            if not self._idle():
                return False
            due = self.clock.take_next()
        self.clock.fire(due)
        return bool(due)

    def entity_busy(self, entity_id: str) -> bool:
        """Whether operations of the entity (``@name@key``) are queued, running, or waiting on the clock."""
        with self._lock:
            entity = self._entities.get(entity_id)
            queued = entity is not None and bool(entity.pending_operations or entity.dispatched_operations)
            return queued or entity_id in self._entity_in_flight

    def GetWorkItems(self, request: pb.GetWorkItemsRequest, context: grpc.ServicerContext) -> Iterator[pb.WorkItem]:
        """The backend's work items, each orchestration step stamped with the clock's time, not the wall's."""
        for item in super().GetWorkItems(request, context):
            if item.HasField("orchestratorRequest"):
                self._stamp_dispatch(item.orchestratorRequest)
            yield item

    def _stamp_dispatch(self, request: pb.OrchestratorRequest) -> None:
        """Give the step's ``OrchestratorStarted`` event, in the work item and in the instance, the clock's time."""
        now = self.clock.now()
        with self._lock:
            instance = self._instances.get(request.instanceId)
            dispatched = instance.dispatched_events if instance is not None else []
            for events in (request.newEvents, dispatched[:1]):
                if events and events[0].HasField("orchestratorStarted"):
                    events[0].timestamp.FromDatetime(now)

    def _process_create_timer_action(self, instance: OrchestrationInstance, action: pb.OrchestratorAction) -> None:
        fire_at = action.createTimer.fireAt.ToDatetime(tzinfo=UTC)
        instance.history.append(helpers.new_timer_created_event(action.id, fire_at))
        if instance.status == pb.ORCHESTRATION_STATUS_PENDING:
            instance.status = pb.ORCHESTRATION_STATUS_RUNNING
        self._arm_timer(instance.instance_id, action.id, fire_at)

    def _arm_timer(self, instance_id: str, timer_id: int, fire_at: datetime) -> None:
        """Deliver ``TimerFired`` to the instance when the clock reaches ``fire_at`` (at once if it has passed)."""
        generation = self._generation

        def fire() -> None:
            with self._lock:
                instance = self._instances.get(instance_id)
                if self._generation != generation or instance is None or self._is_terminal_status(instance.status):
                    return
                instance.pending_events.append(helpers.new_timer_fired_event(timer_id, fire_at))
                instance.last_updated_at = datetime.now(UTC)
                self._enqueue_orchestration(instance_id)

        self.clock.call_at(fire_at, fire)

    def _schedule_delayed_entity_operation(self, entity_id: str, event: pb.HistoryEvent, fire_at: datetime) -> None:
        generation = self._generation

        def fire() -> None:
            with self._lock:
                if self._shutdown_event.is_set() or self._generation != generation:
                    return
                self._queue_entity_operation(entity_id, event)

        self.clock.call_at(fire_at, fire)

    def _idle(self) -> bool:
        """Whether no work is waiting for a worker or held by one. Lock held."""
        if self._activity_queue or self._orchestration_in_flight or self._entity_in_flight:
            return False
        if any(entity.pending_operations for entity in self._entities.values()):
            return False
        running = [i for i in self._instances.values() if not self._is_terminal_status(i.status)]
        return not any(instance.pending_events or self._awaits_work(instance) for instance in running)

    def _awaits_work(self, instance: OrchestrationInstance) -> bool:
        """Whether an activity of the instance is unanswered, or a finished sub-orchestration unreported."""
        answered = answered_task_ids([*instance.history, *instance.pending_events, *instance.dispatched_events])
        for event in instance.history:
            if event.eventId in answered:
                continue
            if event.HasField("taskScheduled"):
                return True
            if event.HasField("subOrchestrationInstanceCreated"):
                child = self._instances.get(event.subOrchestrationInstanceCreated.instanceId)
                if child is not None and self._is_terminal_status(child.status):
                    return True
        return False


def answered_task_ids(events: Iterable[pb.HistoryEvent]) -> set[int]:
    """Ids of activities, timers and sub-orchestrations whose result is already recorded."""
    answered: set[int] = set()
    for event in events:
        kind = event.WhichOneof("eventType")
        if kind in ("taskCompleted", "taskFailed"):
            answered.add(getattr(event, kind).taskScheduledId)
        elif kind == "timerFired":
            answered.add(event.timerFired.timerId)
        elif kind in ("subOrchestrationInstanceCompleted", "subOrchestrationInstanceFailed"):
            answered.add(getattr(event, kind).taskScheduledId)
    return answered
