"""Telemetry settings, the failure-keeping span processor and what is installed when nothing is configured."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from durable_app.http.tracing import _path_of
from durable_app.settings import AppSettings, SettingsError, TelemetrySettings
from durable_app.telemetry import configure_telemetry
from durable_app.telemetry.sampling import SAMPLE_RATE_ATTRIBUTE, FailureKeepingSpanProcessor


def telemetry_settings(env: dict[str, str]) -> TelemetrySettings:
    return AppSettings.from_env(env).telemetry


CONNECTION = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/"


def test_nothing_configured_installs_nothing() -> None:
    settings = telemetry_settings({})
    assert not settings.enabled
    assert configure_telemetry(settings) is None
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)  # the API's no-op proxy stays in place


def test_the_identity_comes_from_the_authentication_string_or_azure_client_id() -> None:
    aad = telemetry_settings(
        {
            "APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION,
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "ClientId=abc;Authorization=AAD",
            "AZURE_CLIENT_ID": "other",
        }
    )
    assert (aad.enabled, aad.use_aad, aad.aad_client_id) == (True, True, "abc")
    fallback = telemetry_settings(
        {"APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "authorization=aad", "AZURE_CLIENT_ID": "uami"}
    )
    assert (fallback.use_aad, fallback.aad_client_id) == (True, "uami")
    assert not telemetry_settings({"APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION}).use_aad


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEMETRY_LOG_LEVEL", "LOUD"),
        ("TELEMETRY_SAMPLING_PERCENTAGE", "abc"),
        ("TELEMETRY_SAMPLING_PERCENTAGE", "101"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
        ("APPLICATIONINSIGHTS_OPENTELEMETRY_RESOURCE_METRIC_DISABLED", "sometimes"),
    ],
)
def test_a_bad_setting_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        telemetry_settings({name: value})


def test_a_request_span_keeps_the_path_and_drops_the_query() -> None:
    assert _path_of("http://127.0.0.1:7071/api/counters/k/add?code=secret&amount=1") == "/api/counters/k/add"


def sampled(percentage: float) -> tuple[TracerProvider, InMemorySpanExporter]:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(FailureKeepingSpanProcessor(SimpleSpanProcessor(exported), percentage))
    return provider, exported


def test_at_zero_percent_only_failures_are_exported_and_they_count_once() -> None:
    provider, exported = sampled(0)
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("fine"):
        pass
    with pytest.raises(RuntimeError), tracer.start_as_current_span("raises"):
        raise RuntimeError("boom")
    with tracer.start_as_current_span("fails") as span:
        span.set_status(StatusCode.ERROR, "HTTP 503")
    names = {span.name: span.attributes[SAMPLE_RATE_ATTRIBUTE] for span in exported.get_finished_spans()}
    assert names == {"raises": 100.0, "fails": 100.0}


def test_a_share_of_whole_traces_is_kept_by_trace_id() -> None:
    provider, exported = sampled(25)
    tracer = provider.get_tracer("test")
    for _ in range(400):
        with tracer.start_as_current_span("parent"), tracer.start_as_current_span("child"):
            pass
    spans = exported.get_finished_spans()
    traces = {span.context.trace_id for span in spans}
    assert 40 <= len(traces) <= 160  # about 100 of 400
    assert len(spans) == 2 * len(traces)  # never half a trace
    assert {span.attributes[SAMPLE_RATE_ATTRIBUTE] for span in spans} == {25.0}


def test_at_one_hundred_percent_everything_is_exported_unmarked() -> None:
    provider, exported = sampled(100)
    with provider.get_tracer("test").start_as_current_span("fine"):
        pass
    (span,) = exported.get_finished_spans()
    assert SAMPLE_RATE_ATTRIBUTE not in span.attributes
