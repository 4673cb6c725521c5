"""W3C trace context carried through the local scheduler, as the Durable Task Scheduler carries it.

``durabletask``'s workers and clients put trace context on the wire (a new orchestration's
``parentTraceContext``, each scheduled activity's, the orchestration span's id and start between
dispatches), but ``InMemoryOrchestrationBackend`` (1.12) drops every one of them, so under the local stack
each activity would start a trace of its own. :class:`TraceContextPropagation` keeps them where the
protocol has a field for them:

- a new instance's ``parentTraceContext`` on its ``ExecutionStarted`` event (the dashboard reads the trace
  id from there);
- each ``ScheduleTask`` action's on its ``TaskScheduled`` event and on the ``ActivityRequest`` (and on a
  redelivered one), so each activity attempt is one span under the orchestration;
- the ``orchestrationTraceContext`` a worker answers with, handed back with the instance's next
  ``OrchestratorRequest``, so every dispatch reuses the orchestration span's id and start time;
- a signal's ``parentTraceContext`` (``SignalEntityRequest``) on its ``OperationRequest.traceContext``, so
  the entity operation is one span under the signal. Only an entity batch as ``EntityBatchRequest``
  (``WorkItem.entityRequest``) has that field: the backend's ``EntityRequest`` (``entityRequestV2``) lists
  operations as history events, which carry none, and the worker then starts each operation's span with
  no parent. Entity batches are therefore dispatched in the first form, and because a worker answers that
  form without ``operationInfos``, the scheduler fills them in from the batch it dispatched, so a call's
  result still reaches the calling orchestration. (Which form DTS hands Python workers is unverified.)
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from durabletask.internal import orchestrator_service_pb2 as pb

from local_stack.scheduler.backend import InMemoryOrchestrationBackend


class TraceContextPropagation(InMemoryOrchestrationBackend):
    """Keeps the trace context the in-memory backend would drop; mixed in below the local scheduler."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._activity_traces: dict[tuple[str, int], pb.TraceContext] = {}
        self._orchestration_traces: dict[str, pb.OrchestrationTraceContext] = {}
        self._operation_traces: dict[str, pb.TraceContext] = {}

    def StartInstance(self, request: pb.CreateInstanceRequest, context: grpc.ServicerContext):
        response = super().StartInstance(request, context)
        if request.HasField("parentTraceContext"):
            with self._lock:
                instance = self._instances.get(response.instanceId)
                for event in instance.pending_events if instance else ():
                    if event.HasField("executionStarted"):
                        event.executionStarted.parentTraceContext.CopyFrom(request.parentTraceContext)
                self._orchestration_traces.pop(response.instanceId, None)
        return response

    def _process_schedule_task_action(self, instance, action: pb.OrchestratorAction) -> None:  # type: ignore[no-untyped-def]
        super()._process_schedule_task_action(instance, action)
        trace_context = action.scheduleTask.parentTraceContext
        if action.scheduleTask.HasField("parentTraceContext") and trace_context.traceParent:
            instance.history[-1].taskScheduled.parentTraceContext.CopyFrom(trace_context)
            self._activity_traces[(instance.instance_id, action.id)] = trace_context

    def CompleteOrchestratorTask(self, request: pb.OrchestratorResponse, context: grpc.ServicerContext):
        with self._lock:
            if request.HasField("orchestrationTraceContext"):
                self._orchestration_traces[request.instanceId] = request.orchestrationTraceContext
            if any(action.HasField("completeOrchestration") for action in request.actions):
                self._orchestration_traces.pop(request.instanceId, None)
            return super().CompleteOrchestratorTask(request, context)

    def CompleteActivityTask(self, request: pb.ActivityResponse, context: grpc.ServicerContext):
        with self._lock:
            self._activity_traces.pop((request.instanceId, request.taskId), None)
            return super().CompleteActivityTask(request, context)

    def SignalEntity(self, request: pb.SignalEntityRequest, context: grpc.ServicerContext) -> pb.SignalEntityResponse:
        if request.HasField("parentTraceContext") and request.parentTraceContext.traceParent and request.requestId:
            with self._lock:  # before the operation is queued, so its first dispatch already carries it
                self._operation_traces[request.requestId] = _copy(request.parentTraceContext)
        return super().SignalEntity(request, context)

    def CompleteEntityTask(self, request: pb.EntityBatchResult, context: grpc.ServicerContext):
        """Complete the dispatched batch, with the ``operationInfos`` the worker leaves out for a batch request."""
        with self._lock:
            token = request.completionToken
            entity = next((e for e in self._entities.values() if str(e.completion_token) == token), None)
            if entity is None or not entity.dispatched_operations:
                return super().CompleteEntityTask(request, context)
            for operation in filter(None, map(_operation_event, entity.dispatched_operations)):
                self._operation_traces.pop(operation.requestId, None)
            if request.operationInfos:
                return super().CompleteEntityTask(request, context)
            completed = pb.EntityBatchResult()
            completed.CopyFrom(request)
            completed.operationInfos.extend(_operation_infos(entity.dispatched_operations))
            return super().CompleteEntityTask(completed, context)

    def GetWorkItems(self, request: pb.GetWorkItemsRequest, context: grpc.ServicerContext) -> Iterator[pb.WorkItem]:
        for item in super().GetWorkItems(request, context):
            with self._lock:
                self._add_trace_context(item)
            yield item

    def _add_trace_context(self, item: pb.WorkItem) -> None:
        """Caller holds the lock."""
        if item.HasField("activityRequest"):
            activity = item.activityRequest
            trace_context = self._activity_traces.get((activity.orchestrationInstance.instanceId, activity.taskId))
            if trace_context is not None:
                activity.parentTraceContext.CopyFrom(trace_context)
        elif item.HasField("orchestratorRequest"):
            orchestration = self._orchestration_traces.get(item.orchestratorRequest.instanceId)
            if orchestration is not None:
                item.orchestratorRequest.orchestrationTraceContext.CopyFrom(orchestration)
        elif item.HasField("entityRequestV2"):
            item.entityRequest.CopyFrom(self._batch_request(item.entityRequestV2))  # replaces entityRequestV2

    def _batch_request(self, request: pb.EntityRequest) -> pb.EntityBatchRequest:
        """The batch as an ``EntityBatchRequest``, each operation with its signal's trace context. Lock held."""
        state = request.entityState if request.HasField("entityState") else None
        batch = pb.EntityBatchRequest(instanceId=request.instanceId, entityState=state)
        for operation in filter(None, map(_operation_event, request.operationRequests)):
            trace_context = self._operation_traces.get(operation.requestId)
            batch.operations.add(
                requestId=operation.requestId,
                operation=operation.operation,
                input=operation.input if operation.HasField("input") else None,
                traceContext=trace_context,
            )
        return batch


def _operation_event(
    event: pb.HistoryEvent,
) -> pb.EntityOperationSignaledEvent | pb.EntityOperationCalledEvent | None:
    """The signal or call an entity's queued event is; ``None`` for anything else (the worker skips those too)."""
    if event.HasField("entityOperationSignaled"):
        return event.entityOperationSignaled
    if event.HasField("entityOperationCalled"):
        return event.entityOperationCalled
    return None


def _operation_infos(events: list[pb.HistoryEvent]) -> list[pb.OperationInfo]:
    """Where each operation's result goes: nowhere for a signal, to the calling orchestration for a call."""
    infos = []
    for event in events:
        if event.HasField("entityOperationCalled"):
            call = event.entityOperationCalled
            caller = pb.OrchestrationInstance(
                instanceId=call.parentInstanceId.value, executionId=call.parentExecutionId
            )
            infos.append(pb.OperationInfo(requestId=call.requestId, responseDestination=caller))
        elif event.HasField("entityOperationSignaled"):
            infos.append(pb.OperationInfo(requestId=event.entityOperationSignaled.requestId))
    return infos


def _copy(trace_context: pb.TraceContext) -> pb.TraceContext:
    copied = pb.TraceContext()
    copied.CopyFrom(trace_context)
    return copied
