"""The local scheduler with its state in a SQLite file: what it acknowledged survives ``kill -9``.

The in-memory backend keeps instances and entities in two dicts and changes them only while holding its
lock. That gives one seam for persistence without touching its logic: a *unit of work* is one outermost
hold of the lock. The dicts record which instances and entities a unit touched; when the unit ends, their
changes are turned into rows (:class:`~local_stack.scheduler.store.Changeset`) queued in the store,
and no call is answered before the rows it caused are committed.

Only what cannot be recomputed is stored: each instance's fields, history and inbox (events not yet
processed, including those dispatched to a worker), and each entity's state and queued operations. Work
in flight, activities not yet completed, timers not yet fired and sub-orchestrations not yet finished are
derived from those after a restart, so everything that was running resumes and nothing is lost.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from durabletask.internal import orchestrator_service_pb2 as pb

from local_stack.scheduler.backend import ActivityWorkItem, EntityState, OrchestrationInstance, PendingLockRequest
from local_stack.scheduler.memory import LocalScheduler
from local_stack.scheduler.mirrors import EntityMirror, EventLog, InstanceMirror, iso_time, loaded_tags, parse_time
from local_stack.scheduler.store import Changeset, SchedulerStore, StoredEvents, StoredState, StoreError
from local_stack.scheduler.timers import answered_task_ids
from local_stack.scheduler.unit_of_work import TouchedDict, UnitOfWorkLock

logger = logging.getLogger(__name__)


class PersistentScheduler(LocalScheduler):
    """A :class:`LocalScheduler` whose instances, entities and queued work live in a SQLite file."""

    def __init__(self, port: int, data_file: Path, **options: Any) -> None:
        super().__init__(port=port, **options)
        self.store = SchedulerStore(data_file)
        self._touched_instances: set[Hashable] = set()
        self._touched_entities: set[Hashable] = set()
        self._instances = TouchedDict(self._touched_instances)
        self._entities = TouchedDict(self._touched_entities)
        self._lock = UnitOfWorkLock(self._end_unit_of_work)
        self._instance_mirrors: dict[str, InstanceMirror] = {}
        self._entity_mirrors: dict[str, EntityMirror] = {}
        self._persisted_lock_requests: list[list[Any]] = []
        self._extra = Changeset()
        self._delayed_ids = itertools.count(1)
        # Tokens from the wall clock in microseconds: always above any token handed out before a restart.
        self._next_completion_token = time.time_ns() // 1000
        try:
            self._restore(self.store.load())
        except BaseException:
            self.store.close()
            raise
        self.store.start()

    def stop(self, grace: float | None = None) -> None:
        super().stop(grace)
        self.store.close()

    def _interceptors(self) -> list[grpc.ServerInterceptor]:
        return [_DurableAnswers(self.store)]

    # --- the unit of work ---

    def _end_unit_of_work(self) -> None:
        """Turn what this unit changed into rows and queue them for the next commit (lock held)."""
        if not (
            self._touched_instances
            or self._touched_entities
            or self._extra
            or self._pending_lock_requests
            or self._persisted_lock_requests
        ):
            return
        changes, self._extra = self._extra, Changeset()
        touched_instances = list(self._touched_instances)
        self._touched_instances.clear()
        for instance_id in touched_instances:
            instance = dict.get(self._instances, instance_id)
            self._persist(instance_id, instance, self._instance_mirrors, InstanceMirror, changes)
        touched_entities = list(self._touched_entities)
        self._touched_entities.clear()
        for entity_id in touched_entities:
            entity = dict.get(self._entities, entity_id)
            self._persist(entity_id, entity, self._entity_mirrors, EntityMirror, changes)
        self._persist_lock_requests(changes)
        if changes:
            self.store.submit(changes)

    @staticmethod
    def _persist(
        key: Any, live: Any, mirrors: dict[Any, Any], mirror_of: Callable[[Any], Any], changes: Changeset
    ) -> None:
        """Sync the file's copy of one instance or entity, ``live`` being what memory holds now (``None``: gone)."""
        mirror = mirrors.get(key)
        if mirror is not None and mirror.live is not live:
            mirror.delete(changes)  # purged, or replaced by a restart of the same id
            del mirrors[key]
            mirror = None
        if live is None:
            return
        if mirror is None:
            mirror = mirrors[key] = mirror_of(live)
        mirror.sync(changes)

    def _persist_lock_requests(self, changes: Changeset) -> None:
        requests = [
            [request.critical_section_id, request.parent_instance_id, list(request.lock_set)]
            for request in self._pending_lock_requests
        ]
        if requests != self._persisted_lock_requests:
            changes.put_meta("pending_lock_requests", requests)
            self._persisted_lock_requests = requests

    # --- calls the base class changes state in without looking the entity up by key ---

    def CompleteEntityTask(self, request: pb.EntityBatchResult, context: grpc.ServicerContext):
        with self._lock:
            for entity_id in list(self._entity_in_flight):
                self._touched_entities.add(entity_id)  # the base finds the entity by token, not by key
            return super().CompleteEntityTask(request, context)

    def CleanEntityStorage(self, request: pb.CleanEntityStorageRequest, context: grpc.ServicerContext):
        with self._lock:
            self._touched_entities.update(self._entities.keys())
            return super().CleanEntityStorage(request, context)

    def _schedule_delayed_entity_operation(self, entity_id: str, event: pb.HistoryEvent, fire_at: datetime) -> None:
        """A signal for later: stored until it fires, so a restart in between still delivers it."""
        signal_id = next(self._delayed_ids)
        self._extra.put_delayed_signal(signal_id, entity_id, event.SerializeToString(), iso_time(fire_at))
        self._arm_delayed_signal(signal_id, entity_id, event, fire_at)

    def _arm_delayed_signal(self, signal_id: int, entity_id: str, event: pb.HistoryEvent, fire_at: datetime) -> None:
        generation = self._generation

        def fire() -> None:
            with self._lock:
                if self._shutdown_event.is_set() or self._generation != generation:
                    return
                self._queue_entity_operation(entity_id, event)
                self._extra.delete_delayed_signal(signal_id)

        self.clock.call_at(fire_at, fire)

    # --- restart ---

    def _restore(self, state: StoredState) -> None:
        """Rebuild memory from the file, then resume everything that was under way."""
        with self._lock:
            for row in state.instances:
                self._restore_instance(row, state.events)
            for row in state.entities:
                self._restore_entity(row, state.events)
            self._persisted_lock_requests = state.meta.get("pending_lock_requests", [])
            for section, parent, lock_set in self._persisted_lock_requests:
                self._pending_lock_requests.append(PendingLockRequest(section, parent, list(lock_set)))
            self._delayed_ids = itertools.count(max((row["signal_id"] for row in state.delayed_signals), default=0) + 1)
            for signal in state.delayed_signals:
                event = pb.HistoryEvent.FromString(signal["event"])
                self._arm_delayed_signal(signal["signal_id"], signal["entity_id"], event, parse_time(signal["fire_at"]))
            resumed = sum(self._resume(instance) for instance in dict.values(self._instances))
            self._touched_instances.clear()
            self._touched_entities.clear()
        if state.instances or state.entities:
            logger.info(
                "Restored %d instance(s) and %d entity(ies) from %s; resumed %d unfinished instance(s)",
                len(state.instances),
                len(state.entities),
                self.store.path,
                resumed,
            )

    def _restore_instance(self, row: Any, events: StoredEvents) -> None:
        instance_id = row["instance_id"]
        instance = OrchestrationInstance(
            instance_id=instance_id,
            name=row["name"],
            status=row["status"],
            version=row["version"],
            input=row["input"],
            output=row["output"],
            custom_status=row["custom_status"],
            created_at=parse_time(row["created_at"]),
            last_updated_at=parse_time(row["last_updated_at"]),
            completed_at=parse_time(row["completed_at"]) if row["completed_at"] else None,
            failure_details=pb.TaskFailureDetails.FromString(row["failure_details"])
            if row["failure_details"] is not None
            else None,
            tags=loaded_tags(row["tags"]),
            completion_token=self._new_completion_token(),
        )
        mirror = InstanceMirror(instance)
        mirror.row = tuple(row)
        mirror.history, instance.history = EventLog.loaded("history", instance_id, events)
        mirror.inbox, instance.pending_events = EventLog.loaded("inbox", instance_id, events)
        dict.__setitem__(self._instances, instance_id, instance)
        self._instance_mirrors[instance_id] = mirror

    def _restore_entity(self, row: Any, events: StoredEvents) -> None:
        entity_id = row["entity_id"]
        entity = EntityState(
            instance_id=entity_id,
            serialized_state=row["serialized_state"],
            last_modified_at=parse_time(row["last_modified_at"]),
            locked_by=row["locked_by"],
            completion_token=self._new_completion_token(),
        )
        mirror = EntityMirror(entity)
        mirror.row = tuple(row)
        mirror.inbox, entity.pending_operations = EventLog.loaded("entity_inbox", entity_id, events)
        dict.__setitem__(self._entities, entity_id, entity)
        self._entity_mirrors[entity_id] = mirror
        if entity.pending_operations:
            self._enqueue_entity(entity_id)

    def _resume(self, instance: OrchestrationInstance) -> bool:
        """Queue an unfinished instance's inbox, activities, timers and sub-orchestration watches again."""
        if self._is_terminal_status(instance.status):
            return False
        if instance.pending_events:
            self._enqueue_orchestration(instance.instance_id)
        answered = answered_task_ids([*instance.history, *instance.pending_events])
        for event in instance.history:
            if event.eventId in answered:
                continue
            if event.HasField("taskScheduled"):
                self._activity_queue.append(_activity_work_item(instance, event))
            elif event.HasField("timerCreated"):
                self._arm_timer(instance.instance_id, event.eventId, event.timerCreated.fireAt.ToDatetime(tzinfo=UTC))
            elif event.HasField("subOrchestrationInstanceCreated"):
                sub_instance_id = event.subOrchestrationInstanceCreated.instanceId
                self._watch_sub_orchestration(instance.instance_id, sub_instance_id, event.eventId)
        self._work_available.set()
        return True


class _DurableAnswers(grpc.ServerInterceptor):
    """Answer a unary call only once everything changed so far is committed.

    Writes wait for their own rows; reads wait too, so no client ever sees state a crash could take back.
    """

    def __init__(self, store: SchedulerStore) -> None:
        self._store = store

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        answer = handler.unary_unary
        store = self._store

        def durable_answer(request: Any, context: grpc.ServicerContext) -> Any:
            response = answer(request, context)
            try:
                store.wait_durable(store.assigned)
            except StoreError as error:
                context.abort(grpc.StatusCode.UNAVAILABLE, str(error))
            return response

        return grpc.unary_unary_rpc_method_handler(
            durable_answer,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _activity_work_item(instance: OrchestrationInstance, event: pb.HistoryEvent) -> ActivityWorkItem:
    scheduled = event.taskScheduled
    return ActivityWorkItem(
        instance_id=instance.instance_id,
        name=scheduled.name,
        task_id=event.eventId,
        input=scheduled.input.value if scheduled.HasField("input") else None,
        completion_token=instance.completion_token,
        version=scheduled.version.value if scheduled.HasField("version") else None,
    )
