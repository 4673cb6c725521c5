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

from durabletask.azuremanaged.client import AsyncDurableTaskSchedulerClient, DurableTaskSchedulerClient

from durable_app.credentials import async_credential, sync_credential
from durable_app.reconnect import channel_options
from durable_app.sdk_logging import sdk_logger
from durable_app.settings import AppSettings
from durable_app.signal_tracing import SignalTraceInterceptor

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncDurableTaskSchedulerClient] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def create_client(settings: AppSettings) -> AsyncDurableTaskSchedulerClient:
    """A new async client for the configured scheduler and task hub."""
    connection = settings.connection
    logger = sdk_logger("client", settings.sdk_log_level)  # before the credential, which logs as it is made
    return AsyncDurableTaskSchedulerClient(
        host_address=connection.host_address,
        taskhub=connection.taskhub,
        token_credential=async_credential(connection),
        secure_channel=connection.secure_channel,
        channel_options=channel_options(settings.reconnect_max_seconds),
        interceptors=[SignalTraceInterceptor()],  # signals sent over HTTP carry their request's trace
        logger=logger,
    )


def shared_client(settings: AppSettings) -> AsyncDurableTaskSchedulerClient:
    """The running loop's client, created on first use."""
    loop = asyncio.get_running_loop()
    with _lock:
        client = _clients.get(loop)
        if client is None:
            client = create_client(settings)
            _clients[loop] = client
        return client


@functools.cache
def shared_sync_client(settings: AppSettings) -> DurableTaskSchedulerClient:
    """One blocking client per process, for activities that read durable state (their threads share it)."""
    connection = settings.connection
    return DurableTaskSchedulerClient(
        host_address=connection.host_address,
        taskhub=connection.taskhub,
        token_credential=sync_credential(connection),
        secure_channel=connection.secure_channel,
        channel_options=channel_options(settings.reconnect_max_seconds),
        logger=sdk_logger("client", settings.sdk_log_level),
    )
