"""Where the app's telemetry goes and how much of it, from the declared telemetry settings."""

from __future__ import annotations

from dataclasses import dataclass

from durable_app.settings.catalog import (
    APPINSIGHTS_AUTHENTICATION_STRING,
    APPINSIGHTS_CONNECTION_STRING,
    AZURE_CLIENT_ID,
    OTLP_ENDPOINT,
    RESOURCE_METRIC_DISABLED,
    SAMPLING_PERCENTAGE,
    SERVICE_NAME,
    SPAN_QUEUE_SIZE,
    TELEMETRY_LOG_LEVEL,
)
from durable_app.settings.schema import SettingValues


@dataclass(frozen=True)
class TelemetrySettings:
    """Where telemetry goes (both destinations may be set at once) and how much of it."""

    connection_string: str | None = None
    aad_client_id: str | None = None
    use_aad: bool = False
    otlp_endpoint: str | None = None
    service_name: str = SERVICE_NAME.default
    log_level: int = TELEMETRY_LOG_LEVEL.default
    sampling_percentage: float = SAMPLING_PERCENTAGE.default
    span_queue_size: int = SPAN_QUEUE_SIZE.default
    resource_metric_disabled: bool = RESOURCE_METRIC_DISABLED.default

    @property
    def enabled(self) -> bool:
        return bool(self.connection_string or self.otlp_endpoint)

    @classmethod
    def from_values(cls, values: SettingValues) -> TelemetrySettings:
        auth = _key_values(values[APPINSIGHTS_AUTHENTICATION_STRING] or "")
        return cls(
            connection_string=values[APPINSIGHTS_CONNECTION_STRING],
            aad_client_id=auth.get("clientid") or values[AZURE_CLIENT_ID],
            use_aad=auth.get("authorization", "").upper() == "AAD",
            otlp_endpoint=values[OTLP_ENDPOINT],
            service_name=values[SERVICE_NAME],
            log_level=values[TELEMETRY_LOG_LEVEL],
            sampling_percentage=values[SAMPLING_PERCENTAGE],
            span_queue_size=values[SPAN_QUEUE_SIZE],
            resource_metric_disabled=values[RESOURCE_METRIC_DISABLED],
        )


def _key_values(text: str) -> dict[str, str]:
    """``Key=Value;Key=Value`` with case-insensitive keys, as Application Insights strings are."""
    pairs = (part.split("=", 1) for part in text.split(";") if "=" in part)
    return {key.strip().lower(): value.strip() for key, value in pairs}
