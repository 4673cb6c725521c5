"""App settings, read once from the environment (Azure app settings or ``local.settings.json``).

Every value is validated here so that a bad setting stops the app at startup with a message naming it,
instead of surfacing later as a confusing gRPC or thread-pool error.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from durable_app.connection_string import (
    Authentication,
    ConnectionString,
    parse_connection_string,
)

CONNECTION_STRING_SETTING = "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"
EMULATOR_ENDPOINT = "http://localhost:8080"
DEFAULT_TASKHUB = "default"


class SettingsError(ValueError):
    """An app setting has a value the app cannot use; the message names the setting."""


@dataclass(frozen=True)
class WorkerConcurrency:
    """How much the hosted worker runs at once.

    Activities in ``durabletask`` are synchronous and share one thread pool, so for I/O-bound work the pool
    size, not the CPU count, bounds fan-out throughput: the default is sized for the seed's sleep-based
    work items rather than the SDK's ``cpu + 4``.
    """

    thread_pool_workers: int = 100
    concurrent_activities: int = 500
    concurrent_orchestrations: int = 100
    concurrent_entities: int = 100


@dataclass(frozen=True)
class AppSettings:
    """Everything the app reads from its environment."""

    connection: ConnectionString
    worker_enabled: bool = True
    concurrency: WorkerConcurrency = WorkerConcurrency()
    sdk_log_level: int = logging.WARNING
    reconnect_max_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppSettings:
        env = os.environ if env is None else env
        return cls(
            connection=connection_from_env(env),
            worker_enabled=_bool(env, "DTS_WORKER_ENABLED", True),
            concurrency=WorkerConcurrency(
                thread_pool_workers=_positive_int(env, "DTS_MAX_ACTIVITY_THREADS", 100),
                concurrent_activities=_positive_int(env, "DTS_MAX_CONCURRENT_ACTIVITIES", 500),
                concurrent_orchestrations=_positive_int(env, "DTS_MAX_CONCURRENT_ORCHESTRATIONS", 100),
                concurrent_entities=_positive_int(env, "DTS_MAX_CONCURRENT_ENTITIES", 100),
            ),
            sdk_log_level=_log_level(env, "DTS_SDK_LOG_LEVEL", logging.WARNING),
            reconnect_max_seconds=_positive_float(env, "DTS_RECONNECT_MAX_SECONDS", 5.0),
        )


@functools.cache
def app_settings() -> AppSettings:
    """This process's settings, read from the environment once, on first use."""
    return AppSettings.from_env()


def connection_from_env(env: Mapping[str, str]) -> ConnectionString:
    """The scheduler connection: the connection string if set, else the seeds' ``ENDPOINT``/``TASKHUB``.

    ``TASKHUB_NAME`` overrides the hub either way, as in the Durable Functions DTS samples.
    """
    text = env.get(CONNECTION_STRING_SETTING, "").strip()
    if text:
        try:
            connection = parse_connection_string(text)
        except ValueError as error:
            raise SettingsError(f"{CONNECTION_STRING_SETTING}: {error}") from error
    else:
        connection = _connection_from_seed_variables(env)
    hub_override = env.get("TASKHUB_NAME", "").strip()
    if hub_override:
        connection = ConnectionString(
            connection.endpoint, hub_override, connection.authentication, connection.client_id
        )
    return connection


def _connection_from_seed_variables(env: Mapping[str, str]) -> ConnectionString:
    """The seeds' convention: no credential for a plain-HTTP endpoint, ``DefaultAzureCredential`` otherwise."""
    endpoint = env.get("ENDPOINT", "").strip() or EMULATOR_ENDPOINT
    taskhub = env.get("TASKHUB", "").strip() or DEFAULT_TASKHUB
    auth = Authentication.DEFAULT_AZURE if endpoint.lower().startswith("https://") else Authentication.NONE
    text = f"Endpoint={endpoint};TaskHub={taskhub};Authentication={auth.value}"
    try:
        return parse_connection_string(text)
    except ValueError as error:
        raise SettingsError(f"ENDPOINT: {error}") from error


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(f"{name}: '{env[name]}' is not a boolean (use true or false)")


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    return _int_at_least(env, name, default, 1)


def _log_level(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip().upper()
    if not raw:
        return default
    level = logging.getLevelName(raw)
    if not isinstance(level, int):
        raise SettingsError(f"{name}: '{env[name]}' is not a log level (DEBUG, INFO, WARNING, ERROR)")
    return level


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = non_negative_float(env, name, default)
    if value == 0:
        raise SettingsError(f"{name}: must be a positive number, got {env[name].strip()}")
    return value


def non_negative_float(env: Mapping[str, str], name: str, default: float) -> float:
    """A float setting that may be zero (used for the simulated work-item delay)."""
    value = float_setting(env, name)
    if value is None:
        return default
    if value < 0 or not math.isfinite(value):
        raise SettingsError(f"{name}: must be a non-negative number, got {env[name].strip()}")
    return value


def float_setting(env: Mapping[str, str], name: str) -> float | None:
    """The setting as a number, ``None`` when unset or blank; callers check its bounds."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name}: '{raw}' is not a number") from None


def non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole-number setting that may be zero (used for the work items' CPU work)."""
    return _int_at_least(env, name, default, 0)


def _int_at_least(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: '{raw}' is not a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name}: must be at least {minimum}, got {raw}")
    return value
