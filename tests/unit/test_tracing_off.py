"""Without a tracer provider the HTTP client carries no trace interceptor: each ``grpc.aio`` interceptor costs
every signal a task of its own, for spans that would record nothing."""

from __future__ import annotations

import asyncio

from durable_app.scheduler import create_client
from durable_app.scheduler.signal_tracing import SignalTraceInterceptor
from durable_app.telemetry.attributes import tracing_installed
from tests.helpers.settings import app_settings_with

CONNECTION = "Endpoint=http://127.0.0.1:9;TaskHub=default;Authentication=None"


def test_the_signal_interceptor_is_there_exactly_when_tracing_is() -> None:
    async def interceptors() -> list[object]:
        with app_settings_with(DURABLE_TASK_SCHEDULER_CONNECTION_STRING=CONNECTION) as settings:
            client = create_client(settings)
            try:
                return list(client._interceptors or [])
            finally:
                await client.close()

    found = asyncio.run(interceptors())
    assert found, "the SDK's own interceptors moved: this test no longer sees the client's chain"
    assert any(isinstance(interceptor, SignalTraceInterceptor) for interceptor in found) == tracing_installed()
