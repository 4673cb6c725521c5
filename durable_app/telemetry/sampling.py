"""Sampling at export: a fixed share of whole traces, and every failed span whatever its trace."""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

SAMPLE_RATE_ATTRIBUTE = "_MS.sampleRate"
"""The span attribute the Azure Monitor exporter turns into an envelope's ``sampleRate``."""


class FailureKeepingSpanProcessor(SpanProcessor):
    """Export a fixed share of traces, and every span that failed or recorded an exception, whatever its trace.

    A head sampler decides before a span knows it will fail, so it drops failures with the rest. Here every
    span is recorded and the decision is taken as it ends: whole traces are kept by their trace id (the same
    rule in every process, so a trace is never split by sampling), and a failed span is kept even when its
    trace is not. Application Insights scales counts by each item's ``sampleRate``, set as the span starts:
    the configured percentage for spans of kept traces, 100 for the rest (kept only if they fail).
    """

    def __init__(self, exporting: SpanProcessor, percentage: float) -> None:
        self._exporting = exporting
        self._percentage = percentage
        self._bound = int(percentage / 100 * (1 << 64))

    def _trace_kept(self, trace_id: int) -> bool:
        return self._percentage >= 100 or (trace_id & 0xFFFFFFFFFFFFFFFF) < self._bound

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if self._percentage < 100:
            kept = self._trace_kept(span.get_span_context().trace_id)
            span.set_attribute(SAMPLE_RATE_ATTRIBUTE, self._percentage if kept else 100.0)
        self._exporting.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if self._trace_kept(span.context.trace_id) or _failed(span):
            self._exporting.on_end(span)

    def shutdown(self) -> None:
        self._exporting.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._exporting.force_flush(timeout_millis)


def _failed(span: ReadableSpan) -> bool:
    return span.status.status_code is StatusCode.ERROR or any(event.name == "exception" for event in span.events)
