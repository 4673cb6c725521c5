"""The Function App: the HTTP triggers (client side) and the hosted DTS worker (worker side) of one process.

The routes come from the HTTP room's blueprints (``durable_app.http``): a start route for every declared
orchestrator, and batches; every declared entity, and the counter's own routes; Durable Functions' management
API. Workflows declare themselves in their own modules under ``orchestrations/`` and ``entities/``
(``durable_app.workflows``). Importing this module reads and validates every app setting (``durable_app.settings``:
a bad one stops the app here, named), installs the app's telemetry exporters when configured
(``durable_app.telemetry``) and starts this process's DTS worker unless ``DTS_WORKER_ENABLED`` is false.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import azure.functions as func

from durable_app.http import HEALTH, Given, blueprints, json_response
from durable_app.settings import app_settings
from durable_app.telemetry import configure_telemetry
from durable_app.values import utc_iso
from durable_app.worker import hosted_worker_status, start_hosted_worker

logger = logging.getLogger(__name__)

settings = app_settings()
configure_telemetry(settings.telemetry)
start_hosted_worker(settings)

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in blueprints:
    app.register_functions(blueprint)


@HEALTH(app)
async def health(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """200 when this process's DTS worker is connected to the scheduler (or disabled); 503 otherwise."""
    status = hosted_worker_status()
    connection = status.connection
    body = {
        "status": "healthy" if status.healthy else "unhealthy",
        "worker": {
            "enabled": status.enabled,
            "running": status.running,
            "connected": bool(connection and connection.connected),
            "since": utc_iso(datetime.fromtimestamp(connection.since, tz=UTC)) if connection else None,
            "lastError": connection.last_error if connection else None,
        },
        "scheduler": {"endpoint": settings.connection.endpoint, "taskHub": settings.connection.taskhub},
    }
    return json_response(body, status=200 if status.healthy else 503)
