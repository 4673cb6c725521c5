"""The local scheduler: ``durabletask``'s in-memory backend (answering as DTS), served on loopback, with redelivery.

``InMemoryOrchestrationBackend`` (durabletask 1.12) implements the sidecar gRPC protocol the DTS SDKs
speak, but once it hands a work item to a worker's ``GetWorkItems`` stream it forgets it: if that worker
dies, an orchestration stays "in flight" forever and a popped activity is lost. The real scheduler
redelivers such work. :class:`LocalScheduler` adds that with one extension point, the stream itself:
every work item it yields is *leased* to the stream until completed, and when a stream ends its unfinished
leases go back on their queues. Completion tokens are renewed on redelivery, so a late answer from the
dead worker is ignored as stale, and a second completion of the same activity is dropped. Trace context
travels through it as through the real scheduler (``local_stack.scheduler.trace_context``).

Flow control: a worker announces its capacity in ``GetWorkItemsRequest`` (``maxConcurrentOrchestrationWorkItems``,
``maxConcurrentActivityWorkItems``), and a stream is never handed more unfinished work of a kind than that; the
rest stays queued, for whichever worker has room. Without it the first worker to connect would take the whole
backlog and a worker started later would find nothing to do.

Backlog query: besides the DTS protocol, the scheduler answers one call of its own on the same port,
``/localscheduler.Scheduler/Backlog`` (unary, empty request, a JSON object as the response bytes), with the work
items waiting for a worker (``pending``) and those a worker holds (``in_flight``), by kind, and the connected
worker streams: what a backlog-driven scaler polls (``bench.autoscale``; documented in docs/scaling-bench.md).
:meth:`LocalScheduler.backlog` gives the same in process.

It relies on a few private fields of the backend, all named in :mod:`local_stack.scheduler.backend`.
"""

from __future__ import annotations

import itertools
import json
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.internal import orchestrator_service_pb2_grpc as stubs

from local_stack.scheduler.backend import ActivityWorkItem, EntityState
from local_stack.scheduler.dts_semantics import DtsSemantics

logger = logging.getLogger(__name__)

DEFAULT_MAX_HISTORY = 100_000
"""Room for the largest fan-out the API accepts (two events per item) with a wide margin."""

RPC_THREADS = 64
"""gRPC server threads: each connected worker holds one for its stream; clients share the rest."""

BACKLOG_METHOD = "/localscheduler.Scheduler/Backlog"
"""The backlog query's gRPC method: an empty request, a JSON object (UTF-8 bytes) as the answer."""

PING_INTERVAL_SECONDS = 30.0
"""Idle time after which a worker stream gets a health ping (the SDK gives up on a silent stream at 120 s)."""

Lease = tuple[str, str, int]
"""(kind, instance or entity id, task id): one unit of dispatched, unfinished work."""


@dataclass
class _Stream:
    """One worker's ``GetWorkItems`` stream and the work it holds."""

    number: int
    limits: dict[str, int] = field(default_factory=dict)
    """Most unfinished work items of a kind the worker takes at once (from its request; absent: no limit)."""
    closed: bool = False
    leases: dict[Lease, pb.WorkItem] = field(default_factory=dict)
    held: Counter[str] = field(default_factory=Counter)
    """Unfinished work items of each kind in ``leases``."""
    freed: threading.Event = field(default_factory=threading.Event)
    """Set whenever a lease of this stream is released: the dispatcher may have room again."""

    def full(self) -> bool:
        """Whether the worker holds as many work items of some kind as it said it takes."""
        return any(self.held[kind] >= limit for kind, limit in self.limits.items())


class LocalScheduler(DtsSemantics):
    """In-memory DTS-protocol scheduler that redelivers work held by a worker whose stream ends."""

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        max_history_size: int = DEFAULT_MAX_HISTORY,
        ping_interval: float = PING_INTERVAL_SECONDS,
    ) -> None:
        super().__init__(max_history_size=max_history_size, port=port)
        self._host = host
        self._ping_interval = ping_interval
        self._stream_numbers = itertools.count(1)
        self._holders: dict[Lease, _Stream] = {}
        self._late_entity_batches: dict[str, tuple[str, list[pb.HistoryEvent]]] = {}
        self._live_streams: set[int] = set()
        self.redelivered = 0
        self.dropped_completions = 0
        self.dispatched: Counter[tuple[int, str]] = Counter()
        """Work items handed out, by (stream number, kind): which worker got how much of the work."""

    @property
    def port(self) -> int:
        return self._port

    def connected_streams(self) -> int:
        """Worker streams connected now (one per worker process)."""
        with self._lock:
            return len(self._live_streams)

    def held_work_items(self) -> int:
        """Work items dispatched to a live worker stream and not yet completed."""
        with self._lock:
            return len(self._holders)

    def backlog(self) -> dict[str, dict[str, int] | int]:
        """Work items waiting for a worker and held by one, by kind, and the connected worker streams.

        ``pending`` counts what no worker has yet: queued orchestrations with new events, queued activities,
        queued entities with operations. ``in_flight`` counts what a connected worker holds, unfinished.
        """
        with self._lock:
            orchestrations = sum(
                1
                for instance_id in self._orchestration_queue
                if (instance := self._instances.get(instance_id)) is not None and instance.pending_events
            )
            entities = sum(
                1
                for entity_id in self._entity_queue
                if (entity := self._entities.get(entity_id)) is not None and entity.pending_operations
            )
            held = Counter(kind for kind, _, _ in self._holders)
            return {
                "pending": {
                    "orchestration": orchestrations,
                    "activity": len(self._activity_queue),
                    "entity": entities,
                },
                "in_flight": {kind: held[kind] for kind in ("orchestration", "activity", "entity")},
                "workers": len(self._live_streams),
            }

    def _backlog_handler(self) -> grpc.GenericRpcHandler:
        """The backlog query as a gRPC method beside the DTS protocol's, so any process can poll it."""

        def answer(_request: bytes, _context: grpc.ServicerContext) -> bytes:
            return json.dumps(self.backlog()).encode()

        service, method = BACKLOG_METHOD.strip("/").split("/")
        return grpc.method_handlers_generic_handler(
            service,
            {method: grpc.unary_unary_rpc_method_handler(answer, request_deserializer=None, response_serializer=None)},
        )

    def start(self) -> str:
        """Serve on ``host:port`` only (the base class listens on every interface)."""
        self._shutdown_event.clear()
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=RPC_THREADS, thread_name_prefix="scheduler"),
            options=[("grpc.so_reuseport", 0)],  # a second scheduler on the same port must fail, not share it
            interceptors=self._interceptors(),
        )
        stubs.add_TaskHubSidecarServiceServicer_to_server(self, server)
        server.add_generic_rpc_handlers((self._backlog_handler(),))
        address = f"{self._host}:{self._port}"
        try:
            server.add_insecure_port(address)
        except RuntimeError as error:
            raise OSError(f"cannot listen on {address}: port in use") from error
        server.start()
        self._server = server
        logger.info("Local scheduler listening on %s", address)
        return address

    def _interceptors(self) -> list[grpc.ServerInterceptor]:
        """Server interceptors around every call; none in memory."""
        return []

    def GetWorkItems(self, request: pb.GetWorkItemsRequest, context: grpc.ServicerContext) -> Iterator[pb.WorkItem]:
        """The backend's work, leased to this stream, with a health ping whenever the stream sits idle.

        DTS pings idle streams; without pings the SDK worker takes the silence for a dead connection and
        reconnects every 120 s. The backend's generator only yields work, so a dispatcher thread runs it and
        hands items over one at a time, leaving this generator free to ping between them.
        """
        stream = _Stream(next(self._stream_numbers), limits=_limits_of(request))
        with self._lock:
            self._live_streams.add(stream.number)
        context.add_callback(lambda: self._close_stream(stream))
        logger.info("Worker stream %d connected", stream.number)
        handoff: queue.Queue[pb.WorkItem | None] = queue.Queue(maxsize=1)
        dispatcher = threading.Thread(
            target=self._dispatch, args=(stream, request, context, handoff), name=f"stream-{stream.number}", daemon=True
        )
        dispatcher.start()
        idle_since = time.monotonic()
        try:
            while context.is_active() and not stream.closed:  # checked twice a second, so a stop is prompt
                try:
                    item = handoff.get(timeout=0.5)
                except queue.Empty:
                    if time.monotonic() - idle_since >= self._ping_interval:
                        idle_since = time.monotonic()
                        yield pb.WorkItem(healthPing=pb.HealthPing())
                    continue
                if item is None:
                    return
                idle_since = time.monotonic()
                yield item
        finally:
            self._close_stream(stream)

    def _dispatch(
        self,
        stream: _Stream,
        request: pb.GetWorkItemsRequest,
        context: grpc.ServicerContext,
        handoff: queue.Queue[pb.WorkItem | None],
    ) -> None:
        """Lease each work item before handing it over, so an item in transit is requeued if the stream ends.

        The backend's generator is only asked for the next item while the worker has room for every kind.
        """
        try:
            items = super().GetWorkItems(request, context)
            while self._wait_for_room(stream):
                item = next(items, None)
                if item is None or not self._lease(stream, item) or not _hand_over(handoff, item, stream):
                    return
        finally:
            _hand_over(handoff, None, stream)

    def _wait_for_room(self, stream: _Stream) -> bool:
        """Block while the worker holds all it takes of some kind; ``False`` once the stream has ended.

        No lock needed: only this stream's dispatcher (the caller) adds to its counts; a release only lowers them.
        """
        while not stream.closed:
            stream.freed.clear()
            if not stream.full():
                return True
            stream.freed.wait(0.5)
        return False

    def CompleteOrchestratorTask(self, request: pb.OrchestratorResponse, context: grpc.ServicerContext):
        """Record an episode, and wake the streams if events for the instance arrived while it ran.

        Such events leave the instance queued, and a stream that meets it in flight puts it back and sleeps
        until work is announced; the backend announces only what it queues anew, so without this wake-up the
        next episode waited out the stream's 0.1 s poll. Each batch of activity results that arrived during an
        episode cost up to 100 ms: a fan-out of 10 took 127 ms instead of 44.
        """
        with self._lock:
            if not self._release(("orchestration", request.instanceId, 0), request.completionToken):
                self.dropped_completions += 1  # stale: redelivered, or the instance was terminated meanwhile
            response = super().CompleteOrchestratorTask(request, context)
            if request.instanceId in self._orchestration_queue_set:
                self._work_available.set()
            return response

    def CompleteActivityTask(self, request: pb.ActivityResponse, context: grpc.ServicerContext):
        with self._lock:
            lease: Lease = ("activity", request.instanceId, request.taskId)
            if not self._release(lease) and not self._unqueue_activity(request.instanceId, request.taskId):
                logger.info(
                    "Dropping a completion of %s task %d that no worker holds (answered already, or its worker's "
                    "stream ended after the instance finished)",
                    request.instanceId,
                    request.taskId,
                )
                self.dropped_completions += 1
                return pb.CompleteTaskResponse()
            return super().CompleteActivityTask(request, context)

    def CompleteEntityTask(self, request: pb.EntityBatchResult, context: grpc.ServicerContext):
        """Record a batch's result; also one finished just as its stream ended, unless already handed out again.

        Activities accept such a late completion (see :meth:`_unqueue_activity`); without the same for entity
        batches, a batch the worker did finish would run a second time on the worker it is redelivered to.
        """
        with self._lock:
            entity = self._entity_by_token(request.completionToken) or self._reclaim_entity_batch(
                request.completionToken
            )
            if entity is None:
                logger.info("Dropping a stale entity batch completion (token %s)", request.completionToken)
                self.dropped_completions += 1
                return pb.CompleteTaskResponse()
            self._release(("entity", entity.instance_id, 0))
            self._late_entity_batches.pop(entity.instance_id, None)
            return super().CompleteEntityTask(request, context)

    def _reclaim_entity_batch(self, completion_token: str) -> EntityState | None:
        """The entity whose batch this token was redelivered from, if nobody holds that batch yet. Lock held.

        Its operations, put back at the head of the entity's queue, become the dispatched batch again, so
        the backend records the result as if the stream had never ended.
        """
        for entity_id, (token, operations) in self._late_entity_batches.items():
            if token != completion_token:
                continue
            entity = self._entities.get(entity_id)
            count = len(operations)
            if (
                entity is None
                or entity_id in self._entity_in_flight
                or len(entity.pending_operations) < count
                or any(a is not b for a, b in zip(entity.pending_operations, operations, strict=False))
            ):
                return None
            entity.dispatched_operations = entity.pending_operations[:count]
            del entity.pending_operations[:count]
            entity.completion_token = int(token)
            self._entity_in_flight.add(entity_id)
            return entity
        return None

    def _lease(self, stream: _Stream, item: pb.WorkItem) -> bool:
        """Record ``item`` as held by ``stream``; if the stream already ended, put it straight back."""
        lease = _lease_of(item)
        with self._lock:
            if lease is None:
                return True
            if stream.closed:
                self._requeue(item)
                return False
            stream.leases[lease] = item
            stream.held[lease[0]] += 1
            self._holders[lease] = stream
            self.dispatched[(stream.number, lease[0])] += 1
            if lease[0] == "entity":
                self._late_entity_batches.pop(lease[1], None)  # handed out again: a late answer is stale now
            return True

    def _release(self, lease: Lease, completion_token: str | None = None) -> bool:
        """Forget a completed lease; ``False`` when nobody held it. Caller holds the lock.

        With ``completion_token``, only the dispatch that token belongs to is released: a stale answer from a
        dead worker must not release the lease of the worker the item was redelivered to.
        """
        stream = self._holders.get(lease)
        if stream is None:
            return False
        if completion_token is not None and stream.leases[lease].completionToken != completion_token:
            return False
        del self._holders[lease]
        del stream.leases[lease]
        stream.held[lease[0]] -= 1
        stream.freed.set()
        return True

    def _close_stream(self, stream: _Stream) -> None:
        """Put every unfinished work item of an ended stream back on its queue (idempotent)."""
        with self._lock:
            if stream.closed:
                return
            stream.closed = True
            self._live_streams.discard(stream.number)
            leases = list(stream.leases.items())
            stream.leases.clear()
            stream.held.clear()
            for lease, item in leases:
                self._holders.pop(lease, None)
                self._requeue(item)
        if leases:
            logger.warning("Worker stream %d ended holding %d work item(s); redelivering", stream.number, len(leases))
        else:
            logger.info("Worker stream %d ended", stream.number)

    def _requeue(self, item: pb.WorkItem) -> None:
        """Make a dispatched work item available again with a fresh completion token. Caller holds the lock."""
        self.redelivered += 1
        if item.HasField("orchestratorRequest"):
            self._requeue_orchestration(item.orchestratorRequest.instanceId)
        elif item.HasField("activityRequest"):
            self._requeue_activity(item.activityRequest, int(item.completionToken))
        elif item.HasField("entityRequest"):
            self._requeue_entity(item.entityRequest.instanceId)
        self._work_available.set()

    def _requeue_orchestration(self, instance_id: str) -> None:
        instance = self._instances.get(instance_id)
        self._orchestration_in_flight.discard(instance_id)
        if instance is None or self._is_terminal_status(instance.status):
            return
        instance.pending_events[:0] = instance.dispatched_events
        instance.dispatched_events.clear()
        instance.completion_token = self._new_completion_token()
        self._enqueue_orchestration(instance_id)

    def _requeue_activity(self, request: pb.ActivityRequest, completion_token: int) -> None:
        instance_id = request.orchestrationInstance.instanceId
        instance = self._instances.get(instance_id)
        if instance is None or self._is_terminal_status(instance.status):
            return
        self._activity_queue.appendleft(
            ActivityWorkItem(
                instance_id=instance_id,
                name=request.name,
                task_id=request.taskId,
                input=request.input.value if request.HasField("input") else None,
                completion_token=completion_token,
                version=request.version.value if request.HasField("version") else None,
            )
        )

    def _requeue_entity(self, entity_id: str) -> None:
        entity = self._entities.get(entity_id)
        self._entity_in_flight.discard(entity_id)
        if entity is None:
            return
        self._late_entity_batches[entity_id] = (str(entity.completion_token), list(entity.dispatched_operations))
        entity.pending_operations[:0] = entity.dispatched_operations
        entity.dispatched_operations.clear()
        entity.completion_token = self._new_completion_token()
        self._enqueue_entity(entity_id)

    def _unqueue_activity(self, instance_id: str, task_id: int) -> bool:
        """Accept a late completion of redelivered work that has not been handed out again."""
        for queued in self._activity_queue:
            if queued.instance_id == instance_id and queued.task_id == task_id:
                self._activity_queue.remove(queued)
                return True
        return False


def _hand_over(handoff: queue.Queue[pb.WorkItem | None], item: pb.WorkItem | None, stream: _Stream) -> bool:
    """Put ``item`` in the one-slot handoff unless the stream ends first; whether it was handed over."""
    while not stream.closed:
        try:
            handoff.put(item, timeout=0.5)
            return True
        except queue.Full:
            continue
    return False


def _limits_of(request: pb.GetWorkItemsRequest) -> dict[str, int]:
    """The capacity a worker announced, by kind of work item; 0 (not sent) means no limit."""
    announced = {
        "orchestration": request.maxConcurrentOrchestrationWorkItems,
        "activity": request.maxConcurrentActivityWorkItems,
        "entity": request.maxConcurrentEntityWorkItems,
    }
    return {kind: limit for kind, limit in announced.items() if limit > 0}


def _lease_of(item: pb.WorkItem) -> Lease | None:
    if item.HasField("orchestratorRequest"):
        return ("orchestration", item.orchestratorRequest.instanceId, 0)
    if item.HasField("activityRequest"):
        request = item.activityRequest
        return ("activity", request.orchestrationInstance.instanceId, request.taskId)
    if item.HasField("entityRequest"):
        return ("entity", item.entityRequest.instanceId, 0)
    return None
