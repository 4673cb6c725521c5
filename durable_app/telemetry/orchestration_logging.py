"""Replay-safe orchestrator logs that belong to their orchestration's trace."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from durabletask import task
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.internal import tracing

from durable_app.telemetry.attributes import ATTR_INSTANCE_ID


class OrchestrationLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The seed's replay-safe logger whose records also carry the orchestration's trace and instance id.

    An orchestrator runs with no span current (``durabletask`` emits the orchestration span once it ends,
    with an id fixed at its start), so without this its logs would belong to no trace. The trace context is
    made current only for the duration of each log call, never across the orchestrator's ``yield``.
    """

    def __init__(self, ctx: task.OrchestrationContext, base: logging.Logger) -> None:
        super().__init__(base, {ATTR_INSTANCE_ID: ctx.instance_id})
        self._ctx = ctx

    def isEnabledFor(self, level: int) -> bool:
        return not self._ctx.is_replaying and self.logger.isEnabledFor(level)

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        msg, kwargs = self.process(msg, kwargs)
        with tracing.use_trace_context(orchestration_trace_context(self._ctx)):
            self.logger.log(level, msg, *args, **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


def orchestration_logger(ctx: task.OrchestrationContext, base: logging.Logger) -> OrchestrationLogger:
    """What orchestrators log with: replay-safe, in the orchestration's trace."""
    return OrchestrationLogger(ctx, base)


def orchestration_trace_context(ctx: task.OrchestrationContext) -> pb.TraceContext | None:
    """The orchestration span's context (or the one it was started with), read from the SDK's context.

    ``durabletask`` 1.12 keeps it in private fields of its ``RuntimeOrchestrationContext``;
    ``tests/observability`` fails if they move.
    """
    return getattr(ctx, "_orchestration_trace_context", None) or getattr(ctx, "_parent_trace_context", None)
