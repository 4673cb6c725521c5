"""Telemetry the app sends itself: the hosted worker's threads carry no invocation id, so the host drops their logs.

:func:`configure_telemetry` installs the exporters the settings ask for; :func:`annotate` and the ``ATTR_*`` names
put the app's attributes on the current span; :func:`orchestration_logger` logs from orchestrators once per
decision, not once per replay.
"""

from durable_app.telemetry.attributes import (
    ATTR_ENTITY_ID,
    ATTR_INSTANCE_ID,
    ATTR_NAME,
    ATTR_OPERATION,
    ATTR_WORK_ITEM,
    TRACER_NAME,
    annotate,
)
from durable_app.telemetry.orchestration_logging import orchestration_logger
from durable_app.telemetry.setup import Telemetry, configure_telemetry

__all__ = [
    "ATTR_ENTITY_ID",
    "ATTR_INSTANCE_ID",
    "ATTR_NAME",
    "ATTR_OPERATION",
    "ATTR_WORK_ITEM",
    "TRACER_NAME",
    "Telemetry",
    "annotate",
    "configure_telemetry",
    "orchestration_logger",
]
