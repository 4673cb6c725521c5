"""The app's settings, read and validated once, at startup (Azure app settings or ``local.settings.json``).

Every setting is declared in :mod:`durable_app.settings.catalog`; :meth:`AppSettings.from_env` reads them all
at once, so a bad value stops the app when ``function_app.py`` is imported, with a message naming the setting,
instead of surfacing later as a confusing gRPC or thread-pool error. The rest of the app asks
:func:`app_settings` and never the environment.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from durable_app.settings.catalog import (
    CONNECTION_STRING,
    DECLARED,
    DELAY_MAX_SECONDS,
    DELAY_MIN_SECONDS,
    ENDPOINT,
    MAX_ACTIVITY_THREADS,
    MAX_CONCURRENT_ACTIVITIES,
    MAX_CONCURRENT_ENTITIES,
    MAX_CONCURRENT_ORCHESTRATIONS,
    RECONNECT_MAX_SECONDS,
    SDK_LOG_LEVEL,
    TASKHUB,
    TASKHUB_NAME,
    WORKER_ENABLED,
)
from durable_app.settings.connection_string import Authentication, ConnectionString
from durable_app.settings.drills import WorkItemDrills
from durable_app.settings.schema import SettingsError, SettingValues, read_settings
from durable_app.settings.telemetry import TelemetrySettings
from durable_app.settings.versioning import WorkflowVersioning

__all__ = [
    "AppSettings",
    "SettingsError",
    "WorkerConcurrency",
    "app_settings",
    "connection_from_env",
    "settings_overridden",
]


@dataclass(frozen=True)
class WorkerConcurrency:
    """How much the hosted worker runs at once.

    Activities in ``durabletask`` are synchronous and share one thread pool, so for I/O-bound work the pool
    size, not the CPU count, bounds fan-out throughput: the default is sized for the seed's sleep-based
    work items rather than the SDK's ``cpu + 4``.
    """

    thread_pool_workers: int = MAX_ACTIVITY_THREADS.default
    concurrent_activities: int = MAX_CONCURRENT_ACTIVITIES.default
    concurrent_orchestrations: int = MAX_CONCURRENT_ORCHESTRATIONS.default
    concurrent_entities: int = MAX_CONCURRENT_ENTITIES.default

    @classmethod
    def from_values(cls, values: SettingValues) -> WorkerConcurrency:
        return cls(
            thread_pool_workers=values[MAX_ACTIVITY_THREADS],
            concurrent_activities=values[MAX_CONCURRENT_ACTIVITIES],
            concurrent_orchestrations=values[MAX_CONCURRENT_ORCHESTRATIONS],
            concurrent_entities=values[MAX_CONCURRENT_ENTITIES],
        )


@dataclass(frozen=True)
class AppSettings:
    """Everything the app reads from its environment."""

    connection: ConnectionString
    worker_enabled: bool = WORKER_ENABLED.default
    concurrency: WorkerConcurrency = WorkerConcurrency()
    sdk_log_level: int = SDK_LOG_LEVEL.default
    reconnect_max_seconds: float = RECONNECT_MAX_SECONDS.default
    work_item_delay: tuple[float, float] = (DELAY_MIN_SECONDS.default, DELAY_MAX_SECONDS.default)
    """Seconds of simulated I/O per work item, drawn uniformly between the two."""
    drills: WorkItemDrills = field(default_factory=WorkItemDrills)
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)
    versioning: WorkflowVersioning = field(default_factory=WorkflowVersioning)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppSettings:
        """Every declared setting read from ``env`` (the process environment by default); all bad ones named."""
        values = read_settings(os.environ if env is None else env, DECLARED)
        low = values[DELAY_MIN_SECONDS]
        return cls(
            connection=_connection(values),
            worker_enabled=values[WORKER_ENABLED],
            concurrency=WorkerConcurrency.from_values(values),
            sdk_log_level=values[SDK_LOG_LEVEL],
            reconnect_max_seconds=values[RECONNECT_MAX_SECONDS],
            work_item_delay=(low, max(low, values[DELAY_MAX_SECONDS])),
            drills=WorkItemDrills.from_values(values),
            telemetry=TelemetrySettings.from_values(values),
            versioning=WorkflowVersioning.from_values(values),
        )


@functools.cache
def app_settings() -> AppSettings:
    """This process's settings, read from the environment once, on first use (``function_app.py``'s import)."""
    return AppSettings.from_env()


@contextmanager
def settings_overridden(values: Mapping[str, str | None]) -> Iterator[AppSettings]:
    """The settings re-read with ``values`` set over the environment (``None``: unset); both restored on leaving.

    For tests and the workflow test kit: the app reads its settings once, so a process that must see other
    values (activities pointed at a test's scheduler) sets them here and re-reads, as a restarted app would.
    """
    saved = {name: os.environ.get(name) for name in values}
    _set_environment(values)
    app_settings.cache_clear()
    try:
        yield app_settings()
    finally:
        _set_environment(saved)
        app_settings.cache_clear()


def _set_environment(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


CONNECTION_SETTINGS = (CONNECTION_STRING, TASKHUB_NAME, ENDPOINT, TASKHUB)


def connection_from_env(env: Mapping[str, str]) -> ConnectionString:
    """The scheduler connection alone, for the command-line clients, which need nothing else of the app's."""
    return _connection(read_settings(env, CONNECTION_SETTINGS))


def _connection(values: SettingValues) -> ConnectionString:
    """The connection string if set, else the seeds' ``ENDPOINT``/``TASKHUB``; ``TASKHUB_NAME`` overrides the hub.

    Without a connection string the seeds' convention applies: no credential for a plain-HTTP endpoint,
    ``DefaultAzureCredential`` otherwise.
    """
    connection = values[CONNECTION_STRING]
    if connection is None:
        endpoint = values[ENDPOINT]
        secure = endpoint.lower().startswith("https://")
        connection = ConnectionString(
            endpoint, values[TASKHUB], Authentication.DEFAULT_AZURE if secure else Authentication.NONE
        )
    hub_override = values[TASKHUB_NAME]
    if hub_override:
        connection = ConnectionString(
            connection.endpoint, hub_override, connection.authentication, connection.client_id
        )
    return connection
