"""One async DTS client per process (and per event loop) for the HTTP triggers.

gRPC channels are expensive and multiplex many calls, so triggers share one client instead of opening a
channel per request. An ``grpc.aio`` channel is bound to the event loop that created it, so the cache is
keyed by loop: the Functions worker has one, tests and tools may have several.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import weakref
from typing import Any

from durabletask.azuremanaged.client import AsyncDurableTaskSchedulerClient, DurableTaskSchedulerClient

from durable_app.scheduler.credentials import async_credential, sync_credential
from durable_app.scheduler.model_json import MODEL_JSON
from durable_app.scheduler.reconnect import channel_options
from durable_app.scheduler.sdk_logging import sdk_logger
from durable_app.scheduler.signal_tracing import SignalTraceInterceptor
from durable_app.settings import AppSettings, app_settings
from durable_app.telemetry.attributes import tracing_installed

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncDurableTaskSchedulerClient] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def _client_options(settings: AppSettings) -> dict[str, Any]:
    """What the async and the blocking client share: where the scheduler is, and how they reconnect and log."""
    connection = settings.connection
    return {
        "host_address": connection.host_address,
        "taskhub": connection.taskhub,
        "secure_channel": connection.secure_channel,
        "channel_options": channel_options(settings.reconnect_max_seconds),
        "data_converter": MODEL_JSON,
        "default_version": settings.versioning.version,  # stamped on every orchestration the app starts
        "logger": sdk_logger("client", settings.sdk_log_level),  # before the credential, which logs as it is made
    }


def create_client(settings: AppSettings) -> AsyncDurableTaskSchedulerClient:
    """A new async client for the configured scheduler and task hub.

    Signals sent over HTTP carry their request's trace where tracing is installed; without it the trace
    interceptor is left out, since every ``grpc.aio`` interceptor costs each call a task of its own.
    """
    options = _client_options(settings)
    return AsyncDurableTaskSchedulerClient(
        **options,
        token_credential=async_credential(settings.connection),
        interceptors=[SignalTraceInterceptor()] if tracing_installed() else None,
    )


def shared_client(settings: AppSettings | None = None) -> AsyncDurableTaskSchedulerClient:
    """The running loop's client, created on first use from ``settings``: the app's own unless a test passes others."""
    loop = asyncio.get_running_loop()
    with _lock:
        client = _clients.get(loop)
        if client is None:
            client = create_client(app_settings() if settings is None else settings)
            _clients[loop] = client
        return client


def shared_sync_client(settings: AppSettings | None = None) -> DurableTaskSchedulerClient:
    """One blocking client per process, for activities that read durable state (their threads share it).

    Keyed by the settings' values, so settings re-read with other values (the test kit's) get their own client.
    """
    return _sync_client(app_settings() if settings is None else settings)


@functools.cache
def _sync_client(settings: AppSettings) -> DurableTaskSchedulerClient:
    options = _client_options(settings)
    return DurableTaskSchedulerClient(**options, token_credential=sync_credential(settings.connection))
