"""Traces and logs of the app, exported by the app itself through OpenTelemetry.

In Azure the Functions host forwards only logs that carry an invocation id, and the hosted DTS worker runs
on its own threads, outside any invocation: its orchestration, activity and entity logs would be dropped.
So the app exports its own telemetry, to Application Insights when ``APPLICATIONINSIGHTS_CONNECTION_STRING``
is set (with the app's managed identity when ``APPLICATIONINSIGHTS_AUTHENTICATION_STRING`` says
``Authorization=AAD``) and to an OTLP endpoint when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set. With neither,
nothing is installed and nothing leaves the process.

``durabletask`` 1.12 creates the orchestration, activity and entity spans itself and carries W3C trace
context through the scheduler. This module installs the exporting providers; the app's own spans and
attributes come from :mod:`durable_app.http.tracing` (the HTTP request span every trigger runs in),
:mod:`durable_app.scheduler.signal_tracing` (the trace context of entity signals),
:mod:`durable_app.telemetry.attributes` and :mod:`durable_app.telemetry.orchestration_logging` (orchestrator logs
tied to their trace), and :mod:`durable_app.telemetry.sampling` decides which spans leave.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from durable_app.settings import TelemetrySettings
from durable_app.settings.catalog import RESOURCE_METRIC_DISABLED
from durable_app.telemetry.sampling import FailureKeepingSpanProcessor

logger = logging.getLogger(__name__)

EXPORTER_LOGGERS = ("azure.monitor.opentelemetry", "opentelemetry", "urllib3", "azure.core", "azure.identity")
"""Loggers whose records are never exported: the exporters' own complaints would feed themselves."""


@dataclass(frozen=True)
class Telemetry:
    """The installed providers. Each flushes and shuts down at interpreter exit by itself (after the hosted
    worker's stop, which runs first), so a clean stop loses no batch; a killed process loses at most the
    last schedule delay's worth."""

    tracer_provider: TracerProvider
    logger_provider: Any


_installed: Telemetry | None = None
_install_lock = threading.Lock()


def configure_telemetry(settings: TelemetrySettings) -> Telemetry | None:
    """Install exporting tracer and logger providers once per process; ``None`` when nothing is configured.

    Spans are batched (``OTEL_BSP_*``) and so are logs (``OTEL_BLRP_*``). Every span is recorded and
    :class:`FailureKeepingSpanProcessor` decides what is exported; logs are never sampled (their volume is set
    by levels).
    """
    global _installed
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
        batching = BatchSpanProcessor(span_exporter, max_queue_size=settings.span_queue_size)
        tracer_provider.add_span_processor(FailureKeepingSpanProcessor(batching, settings.sampling_percentage))
        logger_provider.add_log_record_processor(BatchLogRecordProcessor(log_exporter))
    trace.set_tracer_provider(tracer_provider)
    set_logger_provider(logger_provider)
    handler = LoggingHandler(level=settings.log_level, logger_provider=logger_provider)
    handler.addFilter(_not_from_exporters)
    logging.getLogger().addHandler(handler)
    _let_app_logs_through(settings.log_level)
    return Telemetry(tracer_provider, logger_provider)


def _exporters(settings: TelemetrySettings) -> list[tuple[SpanExporter, Any]]:
    pairs: list[tuple[SpanExporter, Any]] = []
    if settings.connection_string:
        from azure.monitor.opentelemetry.exporter import AzureMonitorLogExporter, AzureMonitorTraceExporter

        # One "_OTELRESOURCE_" metric per export batch (thousands a day per process) unless asked for; the
        # exporter reads the setting from the environment, so the value read at startup is written there for it.
        os.environ[RESOURCE_METRIC_DISABLED.name] = "true" if settings.resource_metric_disabled else "false"
        options: dict[str, Any] = {"connection_string": settings.connection_string}
        if settings.use_aad:
            options["credential"] = ingestion_credential(settings)
        pairs.append((AzureMonitorTraceExporter(**options), AzureMonitorLogExporter(**options)))
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        pairs.append((OTLPSpanExporter(), OTLPLogExporter()))  # both read OTEL_EXPORTER_OTLP_* themselves
    return pairs


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
