"""Reaching the scheduler: credentials from the connection string, reconnection, and one client per process.

Triggers use :func:`shared_client` (async, one per event loop); activities that read durable state use
:func:`shared_sync_client`. Both default to the app's settings. Runtime status names as the API spells them live
here too, since every room that reads an instance's state needs them, and the reads that keep an instance's
version (:func:`instance_state`, :func:`finished_state`, :func:`versioned_state`).
"""

from durable_app.scheduler.client import create_client, shared_client, shared_sync_client
from durable_app.scheduler.credentials import async_credential, sync_credential
from durable_app.scheduler.runtime_status import (
    RUNTIME_STATUS,
    STATUS_BY_NAME,
    TERMINAL,
    TERMINAL_NAMES,
    status_name,
)
from durable_app.scheduler.versions import VersionedState, finished_state, instance_state, versioned_state

__all__ = [
    "RUNTIME_STATUS",
    "STATUS_BY_NAME",
    "TERMINAL",
    "TERMINAL_NAMES",
    "VersionedState",
    "async_credential",
    "create_client",
    "finished_state",
    "instance_state",
    "shared_client",
    "shared_sync_client",
    "status_name",
    "sync_credential",
    "versioned_state",
]
