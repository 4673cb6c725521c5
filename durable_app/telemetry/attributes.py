"""The attributes the app adds to its spans, and the one way it adds them.

``durabletask`` 1.12 creates the orchestration, activity and entity spans itself; these attributes are what
those spans and the HTTP request spans lack for finding an instance, a work item or an entity in a trace.
"""

from __future__ import annotations

from collections.abc import Mapping

from durabletask.internal import tracing
from opentelemetry import trace

ATTR_INSTANCE_ID = tracing.ATTR_TASK_INSTANCE_ID
ATTR_NAME = tracing.ATTR_TASK_NAME
ATTR_WORK_ITEM = "app.work_item"
ATTR_ENTITY_ID = "app.entity_id"
ATTR_OPERATION = "app.entity_operation"

TRACER_NAME = "durable_app"
"""The instrumentation scope of the spans the app creates itself."""


def tracing_installed() -> bool:
    """Whether a tracer provider is installed. Without one every span is a no-op, so the app skips the work
    of making its own (a span and an extra gRPC interceptor per request cost the HTTP routes about 5%)."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def annotate(attributes: Mapping[str, str | int | float | bool]) -> None:
    """Set attributes (keys: the ``ATTR_*`` names) on the current span; a no-op without telemetry."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(dict(attributes))
