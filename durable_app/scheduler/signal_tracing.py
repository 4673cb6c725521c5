"""Trace context for entity signals, which ``durabletask`` 1.12's clients send without it."""

from __future__ import annotations

from typing import Any

import grpc
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.internal import tracing
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from durable_app.telemetry import ATTR_ENTITY_ID, ATTR_OPERATION, TRACER_NAME

_tracer = trace.get_tracer(TRACER_NAME)


class SignalTraceInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Give each entity signal a PRODUCER span and send its trace context with the signal.

    ``durabletask`` 1.12's clients send no trace context with ``SignalEntity`` (they do for new
    orchestrations); the request's ``parentTraceContext`` field exists for it. The signal is thereby traced
    from its HTTP request to the scheduler, and on to the entity operation where the scheduler delivers the
    operation with that context (``OperationRequest.traceContext`` of an ``EntityBatchRequest``, as the local
    scheduler does): durabletask 1.12's worker finds none in the history-event form (``entityRequestV2``).
    """

    async def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        if not isinstance(request, pb.SignalEntityRequest) or request.HasField("parentTraceContext"):
            return await continuation(client_call_details, request)
        attributes = {ATTR_ENTITY_ID: request.instanceId, ATTR_OPERATION: request.name}
        with _tracer.start_as_current_span(
            f"signal_entity:{request.name}", kind=SpanKind.PRODUCER, attributes=attributes
        ):
            context = tracing.get_current_trace_context()
            if context is not None:
                request.parentTraceContext.CopyFrom(context)
            return await continuation(client_call_details, request)
