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
  ``OrchestratorRequest``, so every dispatch reuses the orchestration span's id and start time.
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
