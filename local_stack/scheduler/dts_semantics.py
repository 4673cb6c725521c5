"""Where DTS answers differently from ``durabletask``'s in-memory backend, the backend answering as DTS does.

- **Termination** takes effect when the call returns (the backend waits for a worker to replay the whole
  history), recursively into running sub-orchestrations, and only once.
- **A finished instance never changes**: results, events and entity answers arriving for it are dropped,
  and its last-updated time stays the moment it finished.
- **Purge** with ``recursive`` also purges the finished sub-orchestrations of what it purges, those whose
  recorded parent is the purged instance (a later, unrelated instance reusing a child's id is kept); purging
  an unfinished orchestration by id is refused (``FAILED_PRECONDITION``).
- **A sub-orchestration records its parent** on its ``ExecutionStarted`` event (``parentInstance``), as DTS
  does; the backend leaves it out.
- **Entities exist while they have state**: ``GetEntity`` answers "no entity" before the first operation
  and after ``delete``, queries list stateless entities only as transient, an entity left without state is
  dropped at once, so ``CleanEntityStorage`` finds nothing to remove (DTS answers 0).
- **A failed sub-orchestration's parent sees the child's failure details** (its exception type, for
  ``is_caused_by`` and retry rules); the backend passes on the message only, typed ``Exception``.
- **Every instance's state carries its version** (the version it was started under); the backend leaves it out.
- **A work item a worker hands back waits before it is offered again** (a worker rejects an instance of a
  newer version than its own, which stays pending until a worker of that version or newer takes it); the
  backend offers it again at once, so an old worker alone would spin on it.
- **History events carry the time they happened** (the backend leaves every timestamp at zero).

Serving, leases and redelivery build on this in :mod:`local_stack.scheduler.memory`.
"""

from __future__ import annotations

import logging
from datetime import UTC, timedelta

import grpc
from durabletask.internal import helpers
from durabletask.internal import orchestrator_service_pb2 as pb
from google.protobuf import timestamp_pb2, wrappers_pb2

from local_stack.scheduler.backend import EntityState, OrchestrationInstance
from local_stack.scheduler.queries import NewestFirstQueries
from local_stack.scheduler.timers import ClockedTimers
from local_stack.scheduler.trace_context import TraceContextPropagation

logger = logging.getLogger(__name__)

REOFFER_SECONDS = 1.0
"""How long an orchestration a worker handed back (a version it may not run) waits before it is offered again."""


class DtsSemantics(NewestFirstQueries, TraceContextPropagation, ClockedTimers):
    """The SDK's in-memory backend with DTS's answers where the two differ, trace context carried as DTS does.

    Newest-first instance queries, an option of the local scheduler only, come from
    :mod:`local_stack.scheduler.queries`.
    """

    def CompleteOrchestratorTask(self, request: pb.OrchestratorResponse, context: grpc.ServicerContext):
        with self._lock:
            children = {
                action.createSubOrchestration.instanceId: self._instances.get(action.createSubOrchestration.instanceId)
                for action in request.actions
                if action.HasField("createSubOrchestration")
            }
            response = super().CompleteOrchestratorTask(request, context)
            self._record_parent(request, children)
            self._stamp(request.instanceId)
            instance = self._instances.get(request.instanceId)
            if instance is not None and instance.completed_at and self._is_terminal_status(instance.status):
                instance.last_updated_at = instance.completed_at  # finished: "updated" never moves again
            return response

    def CompleteActivityTask(self, request: pb.ActivityResponse, context: grpc.ServicerContext):
        with self._lock:
            instance = self._instances.get(request.instanceId)
            if instance is not None and self._is_terminal_status(instance.status):
                logger.info("Dropping a result for finished instance %s (task %d)", request.instanceId, request.taskId)
                return pb.CompleteTaskResponse()
            response = super().CompleteActivityTask(request, context)
            self._stamp(request.instanceId)
            return response

    def CompleteEntityTask(self, request: pb.EntityBatchResult, context: grpc.ServicerContext):
        with self._lock:
            entity = self._entity_by_token(request.completionToken)
            response = super().CompleteEntityTask(request, context)
            if entity is not None:
                self._forget_if_empty(entity)
            return response

    def TerminateInstance(self, request: pb.TerminateRequest, context: grpc.ServicerContext) -> pb.TerminateResponse:
        """Terminate at once, as DTS does, and with ``recursive`` every sub-orchestration still running.

        The backend queues the termination as an event for the worker, so the instance stays running until a
        worker has replayed its whole history (seconds for a large fan-out), and a second terminate in that
        window is accepted and recorded again. Here the instance is finished by the time the call returns;
        terminating a finished instance changes nothing.
        """
        output = request.output.value if request.HasField("output") else None
        with self._lock:
            self._terminate(request.instanceId, output, request.recursive)
        return pb.TerminateResponse()

    def PurgeInstances(
        self, request: pb.PurgeInstancesRequest, context: grpc.ServicerContext
    ) -> pb.PurgeInstancesResponse:
        """Purge as the backend does and, with ``recursive``, the finished sub-orchestrations of each purged one.

        An orchestration named by id (``isOrchestration``) that has not finished is refused with
        ``FAILED_PRECONDITION``, as DTS refuses it (durabletask-dotnet maps that status to its "only
        orchestrations in a terminal state can be purged" error since it added ``isOrchestration``); the
        backend answers "0 purged", which a caller cannot tell from "no such instance".
        """
        with self._lock:
            instance = self._instances.get(request.instanceId) if request.instanceId else None
            if request.isOrchestration and instance is not None and not self._is_terminal_status(instance.status):
                context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"Only orchestrations in a terminal state can be purged; instance '{request.instanceId}' "
                    "has not finished",
                )
            before = dict(dict.items(self._instances))
            response = super().PurgeInstances(request, context)
            if request.recursive:
                purged = [instance for instance_id, instance in before.items() if instance_id not in self._instances]
                response.deletedInstanceCount += sum(self._purge_children(instance) for instance in purged)
            return response

    def RaiseEvent(self, request: pb.RaiseEventRequest, context: grpc.ServicerContext) -> pb.RaiseEventResponse:
        """An event for a finished instance is dropped: its history never changes again."""
        with self._lock:
            instance = self._instances.get(request.instanceId)
            if instance is not None and self._is_terminal_status(instance.status):
                logger.info("Dropping event '%s' for finished instance %s", request.name, request.instanceId)
                return pb.RaiseEventResponse()
            return super().RaiseEvent(request, context)

    def CleanEntityStorage(
        self, request: pb.CleanEntityStorageRequest, context: grpc.ServicerContext
    ) -> pb.CleanEntityStorageResponse:
        """Release orphaned locks; remove no entity, as DTS answers: an entity left without state is already gone.

        (:meth:`_forget_if_empty` drops an entity as soon as an operation leaves it without state.)
        """
        keep_entities = pb.CleanEntityStorageRequest(
            releaseOrphanedLocks=request.releaseOrphanedLocks, continuationToken=request.continuationToken
        )
        return super().CleanEntityStorage(keep_entities, context)

    def GetEntity(self, request: pb.GetEntityRequest, context: grpc.ServicerContext) -> pb.GetEntityResponse:
        """An entity exists once an operation has given it state, as in DTS; until then (or after ``delete``) not.

        The backend answers ``exists`` with no state for an entity whose first signal is still queued, which the
        SDK turns into the state ``''``: ``get_state(int)`` then raises instead of returning ``None``.
        """
        with self._lock:
            entity = self._entities.get(request.instanceId)
            if entity is None or entity.serialized_state is None:
                return pb.GetEntityResponse(exists=False)
            return pb.GetEntityResponse(exists=True, entity=_entity_metadata(entity, request.includeState))

    def QueryEntities(
        self, request: pb.QueryEntitiesRequest, context: grpc.ServicerContext
    ) -> pb.QueryEntitiesResponse:
        """Entities by id prefix and modification time, transient ones (without state) only when asked, as in DTS.

        The backend counts an entity with queued operations as transient and one without state as existing;
        DTS's transient entities are those without state, whatever is queued for them.
        """
        query = request.query
        after = _page_after(query, context)
        with self._lock:
            matching = sorted(
                (entity for entity in self._entities.values() if _entity_matches(entity, query)),
                key=lambda entity: entity.instance_id,
            )
        following = [entity for entity in matching if after is None or entity.instance_id > after]
        size = query.pageSize.value if query.HasField("pageSize") and query.pageSize.value > 0 else len(following)
        page = following[:size]
        token = _ENTITY_PAGE_MARK + page[-1].instance_id if len(following) > size else None
        return pb.QueryEntitiesResponse(
            entities=[_entity_metadata(entity, query.includeState) for entity in page],
            continuationToken=None if token is None else wrappers_pb2.StringValue(value=token),
        )

    def QueryInstances(self, request: pb.QueryInstancesRequest, context: grpc.ServicerContext):
        response = super().QueryInstances(request, context)
        with self._lock:
            for state in response.orchestrationState:
                _with_version(state, self._instances.get(state.instanceId))
        return response

    def _build_instance_response(
        self, instance: OrchestrationInstance, include_payloads: bool
    ) -> pb.GetInstanceResponse:
        response = super()._build_instance_response(instance, include_payloads)
        _with_version(response.orchestrationState, instance)
        return response

    _handing_back = False
    """Set while a worker hands an orchestration back: its next offer waits :data:`REOFFER_SECONDS`."""

    def AbandonTaskOrchestratorWorkItem(
        self, request: pb.AbandonOrchestrationTaskRequest, context: grpc.ServicerContext
    ) -> pb.AbandonOrchestrationTaskResponse:
        with self._lock:
            self._handing_back = True
            try:
                return super().AbandonTaskOrchestratorWorkItem(request, context)
            finally:
                self._handing_back = False

    def _enqueue_orchestration(self, instance_id: str) -> None:
        """Queue an instance for a worker, never a finished one: what arrives for it now is dropped."""
        instance = self._instances.get(instance_id)
        if instance is not None and self._is_terminal_status(instance.status):
            instance.pending_events.clear()
            if instance.completed_at:
                instance.last_updated_at = instance.completed_at
            return
        if self._handing_back:
            due = self.clock.now() + timedelta(seconds=REOFFER_SECONDS)
            self.clock.call_at(due, lambda: self._reoffer(instance_id))
            return
        if instance is not None:
            self._forward_child_failures(instance)
        super()._enqueue_orchestration(instance_id)

    def _reoffer(self, instance_id: str) -> None:
        with self._lock:
            self._enqueue_orchestration(instance_id)

    def _forward_child_failures(self, parent: OrchestrationInstance) -> None:
        """A failed sub-orchestration reaches its parent with the child's own failure details (type, message,
        stack), as DTS delivers them; the backend sends a bare ``Exception`` carrying the message only."""
        children = {
            event.eventId: event.subOrchestrationInstanceCreated.instanceId
            for event in parent.history
            if event.HasField("subOrchestrationInstanceCreated")
        }
        for event in parent.pending_events:
            if not event.HasField("subOrchestrationInstanceFailed"):
                continue
            failed = event.subOrchestrationInstanceFailed
            child = self._instances.get(children.get(failed.taskScheduledId, ""))
            if child is not None and child.failure_details is not None:
                failed.failureDetails.CopyFrom(child.failure_details)

    def _terminate(self, instance_id: str, output: str | None, recursive: bool) -> None:
        """Finish an unfinished instance as terminated, now. Caller holds the lock.

        Its history ends as a worker would have ended it, and a worker still holding it gets a stale token,
        so its late answer is dropped; queued activities of the instance are withdrawn. Events that arrived
        before the terminate (a suspend, a resume, a raised event, a result) are recorded ahead of it, in
        order, never dropped: DTS appends the termination to the same inbox, behind them, and its worker
        records them all in the one step that ends the instance.
        """
        instance = self._instances.get(instance_id)
        if instance is None or self._is_terminal_status(instance.status):
            return
        now = self.clock.now()
        status = pb.ORCHESTRATION_STATUS_TERMINATED
        queued = [*instance.dispatched_events, *instance.pending_events]  # an instance never run: what was started
        instance.history.extend(
            [
                helpers.new_orchestrator_started_event(now),
                *(event for event in queued if not event.HasField("orchestratorStarted")),  # one step, one start
                helpers.new_terminated_event(encoded_output=output),
                helpers.new_orchestrator_completed_event(),
                helpers.new_execution_completed_event(status, output),
            ]
        )
        self._stamp(instance_id)
        instance.status = status
        instance.output = output
        instance.failure_details = None
        instance.completed_at = instance.last_updated_at = now
        instance.pending_events.clear()
        instance.dispatched_events.clear()
        instance.completion_token = self._new_completion_token()
        self._orchestration_in_flight.discard(instance_id)
        self._orchestration_queue_set.discard(instance_id)
        for queued in [item for item in self._activity_queue if item.instance_id == instance_id]:
            self._activity_queue.remove(queued)
        self._notify_waiters(instance_id)
        logger.info("Terminated instance %s", instance_id)
        if recursive:
            for child_id in _sub_orchestration_ids(instance):
                self._terminate(child_id, output, recursive)

    def _record_parent(self, request: pb.OrchestratorResponse, before: dict[str, OrchestrationInstance | None]) -> None:
        """Name the parent on the ``ExecutionStarted`` event of each sub-orchestration this step created. Lock held.

        ``before`` holds what each requested child id named before the step: an id still naming the same
        instance was refused (a running instance already had it) and is not this parent's child.
        """
        parent_instance = self._instances.get(request.instanceId)
        for action in request.actions:
            if parent_instance is None or not action.HasField("createSubOrchestration"):
                continue
            child = self._instances.get(action.createSubOrchestration.instanceId)
            if child is None or child is before.get(action.createSubOrchestration.instanceId):
                continue
            parent = pb.ParentInstanceInfo(
                taskScheduledId=action.id,
                name=wrappers_pb2.StringValue(value=parent_instance.name),
                orchestrationInstance=pb.OrchestrationInstance(instanceId=request.instanceId),
            )
            for event in child.pending_events:
                if event.HasField("executionStarted"):
                    event.executionStarted.parentInstance.CopyFrom(parent)

    def _purge_children(self, parent: OrchestrationInstance) -> int:
        """Purge the finished sub-orchestrations of a purged instance, depth first; how many. Lock held.

        Only instances whose recorded parent is ``parent`` are its children: an id in its history may name
        an unrelated instance started under that id after the child finished.
        """
        purged = 0
        for child_id in _sub_orchestration_ids(parent):
            child = self._instances.get(child_id)
            if child is None or not self._is_terminal_status(child.status) or _parent_id(child) != parent.instance_id:
                continue
            del self._instances[child_id]
            self._state_waiters.pop(child_id, None)
            purged += 1 + self._purge_children(child)
        return purged

    def _forget_if_empty(self, entity: EntityState) -> None:
        """Drop an entity an operation left without state and with nothing queued or locked: it no longer exists."""
        if (
            entity.serialized_state is None
            and not entity.pending_operations
            and not entity.dispatched_operations
            and not entity.locked_by
            and self._entities.get(entity.instance_id) is entity
        ):
            del self._entities[entity.instance_id]
            self._entity_queue_set.discard(entity.instance_id)

    def _stamp(self, instance_id: str) -> None:
        """Give new history events the time they happened: the backend leaves every timestamp at zero.

        Called as an orchestrator step or an activity result is recorded, so a task's scheduled and completed
        events carry the moments the dashboard's timeline and durations are built from.
        """
        instance = self._instances.get(instance_id)
        if instance is None:
            return
        now = self.clock.now()
        for events in (instance.history, instance.pending_events):
            for event in reversed(events):  # new events are appended: stop at the first one already stamped
                if event.timestamp.seconds or event.timestamp.nanos:
                    break
                event.timestamp.FromDatetime(now)

    def _new_completion_token(self) -> int:
        token = self._next_completion_token
        self._next_completion_token += 1
        return token

    def _entity_by_token(self, completion_token: str) -> EntityState | None:
        """The entity whose dispatched batch this completion token belongs to. Caller holds the lock."""
        return next((e for e in self._entities.values() if str(e.completion_token) == completion_token), None)


def _with_version(state: pb.OrchestrationState, instance: OrchestrationInstance | None) -> None:
    """The version the instance was started under, which DTS returns with every state and the backend omits."""
    if instance is not None and instance.version:
        state.version.value = instance.version


def _sub_orchestration_ids(instance: OrchestrationInstance) -> list[str]:
    """The instances an orchestration started as sub-orchestrations, from its history."""
    return [
        event.subOrchestrationInstanceCreated.instanceId
        for event in instance.history
        if event.HasField("subOrchestrationInstanceCreated")
    ]


def _parent_id(instance: OrchestrationInstance) -> str | None:
    """The id of the orchestration that started ``instance`` as a sub-orchestration, as its history records it."""
    for event in [*instance.history, *instance.pending_events]:
        if event.HasField("executionStarted"):
            started = event.executionStarted
            return (
                started.parentInstance.orchestrationInstance.instanceId if started.HasField("parentInstance") else None
            )
    return None


def _entity_metadata(entity: EntityState, include_state: bool) -> pb.EntityMetadata:
    """An entity as the API describes it; its state only when asked for and present."""
    modified = timestamp_pb2.Timestamp()
    modified.FromDatetime(entity.last_modified_at)
    state = entity.serialized_state
    return pb.EntityMetadata(
        instanceId=entity.instance_id,
        lastModifiedTime=modified,
        backlogQueueSize=len(entity.pending_operations),
        lockedBy=wrappers_pb2.StringValue(value=entity.locked_by) if entity.locked_by else None,
        serializedState=wrappers_pb2.StringValue(value=state) if include_state and state is not None else None,
    )


def _entity_matches(entity: EntityState, query: pb.EntityQuery) -> bool:
    if query.HasField("instanceIdStartsWith") and not entity.instance_id.startswith(query.instanceIdStartsWith.value):
        return False
    if query.HasField("lastModifiedFrom") and entity.last_modified_at < query.lastModifiedFrom.ToDatetime(UTC):
        return False
    if query.HasField("lastModifiedTo") and entity.last_modified_at >= query.lastModifiedTo.ToDatetime(UTC):
        return False
    return query.includeTransient or entity.serialized_state is not None


_ENTITY_PAGE_MARK = "after:"
"""Entity pages are keyset pages: the token names the last entity id given, so entities created between two
pages are neither repeated nor skipped."""


def _page_after(query: pb.EntityQuery, context: grpc.ServicerContext) -> str | None:
    """The entity id a page follows; a token this scheduler did not issue is refused."""
    if not query.HasField("continuationToken") or not query.continuationToken.value:
        return None
    token = query.continuationToken.value
    if not token.startswith(_ENTITY_PAGE_MARK):
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"continuationToken {token!r} was not issued by this scheduler")
    return token.removeprefix(_ENTITY_PAGE_MARK)
