"""Every app setting, declared once (:mod:`~durable_app.settings.catalog`) and read once, at startup.

The rest of the app asks :func:`app_settings` and never the environment. The connection string is parsed here,
strictly, so a bad one stops the app at import with the setting named.
"""

from durable_app.settings.connection_string import (
    Authentication,
    ConnectionString,
    ConnectionStringError,
    parse_connection_string,
)
from durable_app.settings.drills import WorkItemDrills
from durable_app.settings.reader import (
    AppSettings,
    SettingsError,
    WorkerConcurrency,
    app_settings,
    connection_from_env,
    settings_overridden,
)
from durable_app.settings.telemetry import TelemetrySettings
from durable_app.settings.versioning import WorkflowVersioning

__all__ = [
    "AppSettings",
    "Authentication",
    "ConnectionString",
    "ConnectionStringError",
    "SettingsError",
    "TelemetrySettings",
    "WorkItemDrills",
    "WorkerConcurrency",
    "WorkflowVersioning",
    "app_settings",
    "connection_from_env",
    "parse_connection_string",
    "settings_overridden",
]
