"""Traces and logs of the app, exported by the app itself through OpenTelemetry.

In Azure the Functions host forwards only logs that carry an invocation id, and the hosted DTS worker runs
on its own threads, outside any invocation: its orchestration, activity and entity logs would be dropped.
So the app exports its own telemetry, to Application Insights when ``APPLICATIONINSIGHTS_CONNECTION_STRING``
is set (with the app's managed identity when ``APPLICATIONINSIGHTS_AUTHENTICATION_STRING`` says
``Authorization=AAD``) and to an OTLP endpoint when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set. With neither,
nothing is installed and nothing leaves the process.

``durabletask`` 1.12 creates the orchestration, activity and entity spans itself and carries W3C trace
context through the scheduler; this module adds the HTTP request span every trigger runs in, the trace
context of HTTP signals, the attributes the spans lack, and logs of orchestrators tied to their trace.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func
import grpc
from durabletask import task
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.internal import tracing
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from durable_app.settings import SettingsError, float_setting

logger = logging.getLogger(__name__)

CONNECTION_STRING_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
AUTHENTICATION_STRING_SETTING = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"
OTLP_ENDPOINT_SETTING = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE_NAME_SETTING = "OTEL_SERVICE_NAME"
LOG_LEVEL_SETTING = "TELEMETRY_LOG_LEVEL"
SAMPLING_SETTING = "TELEMETRY_SAMPLING_PERCENTAGE"
RESOURCE_METRIC_SETTING = "APPLICATIONINSIGHTS_OPENTELEMETRY_RESOURCE_METRIC_DISABLED"
DEFAULT_SERVICE_NAME = "durable-fan-out"

ATTR_INSTANCE_ID = tracing.ATTR_TASK_INSTANCE_ID
ATTR_NAME = tracing.ATTR_TASK_NAME
ATTR_WORK_ITEM = "app.work_item"
ATTR_ENTITY_ID = "app.entity_id"
ATTR_OPERATION = "app.entity_operation"

EXPORTER_LOGGERS = ("azure.monitor.opentelemetry", "opentelemetry", "urllib3", "azure.core", "azure.identity")
"""Loggers whose records are never exported: the exporters' own complaints would feed themselves."""

_tracer = trace.get_tracer("durable_app")


@dataclass(frozen=True)
class TelemetrySettings:
    """Where telemetry goes; both destinations may be set at once."""

    connection_string: str | None
    aad_client_id: str | None
    use_aad: bool
    otlp_endpoint: str | None
    service_name: str
    log_level: int
    sampling_percentage: float = 100.0

    @property
    def enabled(self) -> bool:
        return bool(self.connection_string or self.otlp_endpoint)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TelemetrySettings:
        env = os.environ if env is None else env
        auth = _key_values(env.get(AUTHENTICATION_STRING_SETTING, ""))
        use_aad = auth.get("authorization", "").upper() == "AAD"
        level_name = env.get(LOG_LEVEL_SETTING, "").strip().upper() or "INFO"
        level = logging.getLevelName(level_name)
        if not isinstance(level, int):
            raise SettingsError(f"{LOG_LEVEL_SETTING}: '{level_name}' is not a log level (DEBUG, INFO, WARNING, ERROR)")
        return cls(
            connection_string=env.get(CONNECTION_STRING_SETTING, "").strip() or None,
            aad_client_id=(auth.get("clientid") or env.get("AZURE_CLIENT_ID", "")).strip() or None,
            use_aad=use_aad,
            otlp_endpoint=env.get(OTLP_ENDPOINT_SETTING, "").strip() or None,
            service_name=env.get(SERVICE_NAME_SETTING, "").strip() or DEFAULT_SERVICE_NAME,
            log_level=level,
            sampling_percentage=_percentage(env, SAMPLING_SETTING, 100.0),
        )


def _percentage(env: Mapping[str, str], name: str, default: float) -> float:
    value = float_setting(env, name)
    if value is None:
        return default
    if not 0 <= value <= 100:
        raise SettingsError(f"{name}: must be between 0 and 100, got {env[name].strip()}")
    return value


def _key_values(text: str) -> dict[str, str]:
    """``Key=Value;Key=Value`` with case-insensitive keys, as Application Insights strings are."""
    pairs = (part.split("=", 1) for part in text.split(";") if "=" in part)
    return {key.strip().lower(): value.strip() for key, value in pairs}


@dataclass(frozen=True)
class Telemetry:
    """The installed providers. Each flushes and shuts down at interpreter exit by itself (after the hosted
    worker's stop, which runs first), so a clean stop loses no batch; a killed process loses at most the
    last schedule delay's worth."""

    tracer_provider: TracerProvider
    logger_provider: Any


_installed: Telemetry | None = None
_install_lock = threading.Lock()


def configure_telemetry(settings: TelemetrySettings | None = None) -> Telemetry | None:
    """Install exporting tracer and logger providers once per process; ``None`` when nothing is configured.

    Spans are batched (``OTEL_BSP_*``) and so are logs (``OTEL_BLRP_*``). Every span is recorded and
    :class:`FailureKeepingSampler` decides what is exported; logs are never sampled (their volume is set by
    levels).
    """
    global _installed
    settings = settings or TelemetrySettings.from_env()
    if not settings.enabled:
        return None
    with _install_lock:
        if _installed is None:
            _installed = _install(settings)
            logger.info("Telemetry exported to %s", ", ".join(_destinations(settings)))
        return _installed


def _destinations(settings: TelemetrySettings) -> list[str]:
    names = []
    if settings.connection_string:
        names.append("Application Insights" + (" (managed identity)" if settings.use_aad else ""))
    if settings.otlp_endpoint:
        names.append(f"OTLP {settings.otlp_endpoint}")
    return names


def _install(settings: TelemetrySettings) -> Telemetry:
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    resource = Resource.create({"service.name": settings.service_name})
    tracer_provider = TracerProvider(resource=resource)
    logger_provider = LoggerProvider(resource=resource)
    for span_exporter, log_exporter in _exporters(settings):
        batching = BatchSpanProcessor(span_exporter, max_queue_size=_span_queue_size())
        tracer_provider.add_span_processor(FailureKeepingSampler(batching, settings.sampling_percentage))
        logger_provider.add_log_record_processor(BatchLogRecordProcessor(log_exporter))
    trace.set_tracer_provider(tracer_provider)
    set_logger_provider(logger_provider)
    handler = LoggingHandler(level=settings.log_level, logger_provider=logger_provider)
    handler.addFilter(_not_from_exporters)
    logging.getLogger().addHandler(handler)
    _let_app_logs_through(settings.log_level)
    return Telemetry(tracer_provider, logger_provider)


SPAN_QUEUE_SIZE = 16_384
"""Spans held for export: the largest fan-out (5,000 items, two spans each) fits, where OpenTelemetry's
default of 2,048 would drop most of its spans. ``OTEL_BSP_MAX_QUEUE_SIZE`` overrides it."""


def _span_queue_size() -> int:
    raw = os.environ.get("OTEL_BSP_MAX_QUEUE_SIZE", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else SPAN_QUEUE_SIZE


def _exporters(settings: TelemetrySettings) -> list[tuple[SpanExporter, Any]]:
    pairs: list[tuple[SpanExporter, Any]] = []
    if settings.connection_string:
        from azure.monitor.opentelemetry.exporter import AzureMonitorLogExporter, AzureMonitorTraceExporter

        # One "_OTELRESOURCE_" metric per export batch (thousands a day per process) unless asked for.
        os.environ.setdefault(RESOURCE_METRIC_SETTING, "true")
        options: dict[str, Any] = {"connection_string": settings.connection_string}
        if settings.use_aad:
            options["credential"] = ingestion_credential(settings)
        pairs.append((AzureMonitorTraceExporter(**options), AzureMonitorLogExporter(**options)))
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        pairs.append((OTLPSpanExporter(), OTLPLogExporter()))  # both read OTEL_EXPORTER_OTLP_* themselves
    return pairs


class FailureKeepingSampler(SpanProcessor):
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


SAMPLE_RATE_ATTRIBUTE = "_MS.sampleRate"
"""The span attribute the Azure Monitor exporter turns into an envelope's ``sampleRate``."""


def _failed(span: ReadableSpan) -> bool:
    return span.status.status_code is StatusCode.ERROR or any(event.name == "exception" for event in span.events)


def ingestion_credential(settings: TelemetrySettings) -> Any:
    """The app's user-assigned identity (``ClientId`` of the authentication string, else ``AZURE_CLIENT_ID``)."""
    from azure.identity import ManagedIdentityCredential

    return ManagedIdentityCredential(client_id=settings.aad_client_id)


def _not_from_exporters(record: logging.LogRecord) -> bool:
    return not record.name.startswith(EXPORTER_LOGGERS)


APP_LOGGERS = ("function_app", "durable_app", "orchestrations", "entities")


def _let_app_logs_through(level: int) -> None:
    """The app's own loggers log at ``level`` even where the root logger is quieter (a bare interpreter)."""
    for name in APP_LOGGERS:
        app_logger = logging.getLogger(name)
        if app_logger.getEffectiveLevel() > level:
            app_logger.setLevel(level)


Trigger = Callable[[func.HttpRequest], Awaitable[func.HttpResponse]]


def traced_request(trigger: Trigger) -> Trigger:
    """Run an HTTP trigger in a span named after it: the request of the trace it starts.

    In Azure, with ``PYTHON_ENABLE_OPENTELEMETRY=true``, the Python worker makes the host's request span
    current first; this span is then its child (INTERNAL) so the request is counted once, by the host.
    Where no request span is current (the local host) this one is the request (SERVER). The URL's query is
    left out: it may hold a function key.
    """

    @functools.wraps(trigger)
    async def traced(req: func.HttpRequest) -> func.HttpResponse:
        under_host = trace.get_current_span().get_span_context().is_valid
        attributes = {"http.request.method": req.method, "url.path": _path_of(req.url)}
        kind = SpanKind.INTERNAL if under_host else SpanKind.SERVER
        with _tracer.start_as_current_span(trigger.__name__, kind=kind, attributes=attributes) as span:
            response = await trigger(req)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(Status(StatusCode.ERROR, f"HTTP {response.status_code}"))
            return response

    return traced


def _path_of(url: str) -> str:
    return urlsplit(url).path


def annotate(attributes: Mapping[str, str | int | float | bool]) -> None:
    """Set attributes (keys: the ``ATTR_*`` names) on the current span; a no-op without telemetry."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(dict(attributes))


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
