"""HTTP triggers (the client side) and the hosted DTS worker (the worker side) of one Function App.

Triggers are thin: they validate input (``durable_app.http_requests``), make one or two scheduler calls
with the process's shared client (the batch routes hand theirs to ``durable_app.batch``), and answer in
Durable Functions' shapes (``durable_app.http_responses``).
Importing this module installs the app's telemetry exporters when configured (``durable_app.telemetry``)
and starts this process's DTS worker unless ``DTS_WORKER_ENABLED`` is false.
"""

from __future__ import annotations

import functools
import logging
import uuid
from datetime import UTC, datetime

import azure.functions as func
from durabletask.client import EntityQuery
from durabletask.entities import EntityInstanceId, EntityMetadata
from durabletask.internal.orchestrator_service_pb2 import OrchestrationIdReusePolicy

from durable_app import http_requests as inputs
from durable_app import instance_routes
from durable_app.batch import send_batch
from durable_app.completion import completion_or_check_status, completion_timeout
from durable_app.http_errors import ApiError, api_errors, batch_failure
from durable_app.http_responses import (
    TERMINAL,
    api_base_url,
    json_response,
    management_urls,
    utc_iso,
)
from durable_app.openapi import openapi_document
from durable_app.scheduler_client import shared_client
from durable_app.settings import app_settings
from durable_app.telemetry import ATTR_INSTANCE_ID, ATTR_NAME, annotate, configure_telemetry, traced_request
from durable_app.worker_host import hosted_worker_status, start_hosted_worker
from entities.counter import counter
from orchestrations.counter_workflow import counter_workflow
from orchestrations.fan_out_fan_in import fan_out_fan_in_orchestrator

logger = logging.getLogger(__name__)

settings = app_settings()
configure_telemetry()
start_hosted_worker(settings)

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(instance_routes.bp)

REUSE_FINISHED_IDS = OrchestrationIdReusePolicy(replaceableStatus=[status.value for status in TERMINAL])
"""A caller-chosen id may be reused once its instance has finished; while it runs, a second start is 409."""


async def _start(req: func.HttpRequest, orchestrator: object, orchestration_input: object) -> func.HttpResponse:
    # The id is chosen here, not by the SDK: durabletask 1.12 tags its create_orchestration span with an id of
    # its own when none is given, so the span would name an instance that does not exist.
    instance_id = inputs.optional_identifier(req.route_params.get("instance_id"), "instance_id") or uuid.uuid4().hex
    completion_timeout(req.params)  # a bad ?timeout= refuses the request before anything starts
    new_id = await shared_client(settings).schedule_new_orchestration(
        orchestrator,  # type: ignore[arg-type]
        input=orchestration_input,
        instance_id=instance_id,
        reuse_id_policy=REUSE_FINISHED_IDS,
    )
    name = getattr(orchestrator, "__name__", str(orchestrator))
    annotate({ATTR_INSTANCE_ID: new_id, ATTR_NAME: name})
    logger.info("Started %s instance %s", name, new_id)
    return await completion_or_check_status(req, new_id)


@app.route(route="orchestrators/fan_out_fan_in_orchestrator/{instance_id?}", methods=["POST"])
@traced_request
@api_errors
async def start_fan_out_fan_in(req: func.HttpRequest) -> func.HttpResponse:
    """Start a fan-out over a JSON list of numbers, or over 1..count (default 10)."""
    items = inputs.fan_out_items(inputs.json_body(req), req.params)
    return await _start(req, fan_out_fan_in_orchestrator, items)


@app.route(route="orchestrators/counter_workflow/{instance_id?}", methods=["POST"])
@traced_request
@api_errors
async def start_counter_workflow(req: func.HttpRequest) -> func.HttpResponse:
    """Start ``counter_workflow`` for an entity key."""
    entity_key = inputs.entity_key_input(inputs.json_body(req), req.params)
    return await _start(req, counter_workflow, entity_key)


def _counter_id(req: func.HttpRequest) -> EntityInstanceId:
    return EntityInstanceId(counter.__name__, inputs.identifier(req.route_params.get("key"), "key"))


@app.route(route="counters/{key}/{operation}", methods=["POST"])
@traced_request
@api_errors
async def signal_counter(req: func.HttpRequest) -> func.HttpResponse:
    """Signal ``add``/``subtract`` (amount in the body or ``?amount=``) or ``reset``; 202 once queued."""
    entity_id = _counter_id(req)
    operation = inputs.signal_operation(req.route_params.get("operation"))
    amount = inputs.signal_amount(operation, inputs.json_body(req), req.params)
    await shared_client(settings).signal_entity(entity_id, operation, input=amount)
    return json_response({"key": entity_id.key, "operation": operation, "amount": amount}, status=202)


@app.route(route="batch/signals", methods=["POST"])
@traced_request
@api_errors
async def signal_counters(req: func.HttpRequest) -> func.HttpResponse:
    """Queue up to 1,000 signals: all validated first, sent concurrently, in order per counter key."""
    signals = inputs.signal_batch(inputs.json_body(req))
    client = shared_client(settings)
    calls = [
        functools.partial(
            client.signal_entity, EntityInstanceId(counter.__name__, signal.key), signal.operation, input=signal.amount
        )
        for signal in signals
    ]
    outcome = await send_batch(calls, keys=[signal.key for signal in signals])
    if outcome.error is not None:
        return batch_failure(outcome, "signals", {})
    return json_response({"count": len(signals), "queued": outcome.lists()["queued"]}, status=202)


_ORCHESTRATORS = {function.__name__: function for function in (fan_out_fan_in_orchestrator, counter_workflow)}
BATCH_ORCHESTRATORS = {name: _ORCHESTRATORS[name] for name in inputs.BATCH_ORCHESTRATORS}


@app.route(route="batch/orchestrators/{name}", methods=["POST"])
@traced_request
@api_errors
async def start_orchestrations(req: func.HttpRequest) -> func.HttpResponse:
    """Start up to 500 instances of one orchestration: all validated first, then started concurrently."""
    name = req.route_params.get("name")
    orchestrator = BATCH_ORCHESTRATORS.get(name or "")
    if orchestrator is None:
        choices = ", ".join(BATCH_ORCHESTRATORS)
        raise ApiError(404, f'no orchestration named "{name}"; use one of {choices}', "name")
    starts = inputs.start_batch(name, inputs.json_body(req))
    ids = [start.instance_id or uuid.uuid4().hex for start in starts]
    client = shared_client(settings)
    calls = [
        functools.partial(
            client.schedule_new_orchestration,
            orchestrator,  # type: ignore[arg-type]
            input=start.input,
            instance_id=instance_id,
            reuse_id_policy=REUSE_FINISHED_IDS,
        )
        for start, instance_id in zip(starts, ids, strict=True)
    ]
    outcome = await send_batch(calls)
    annotate({ATTR_NAME: name})
    instances = [_instance_urls(req, instance_id) for instance_id in ids]
    if outcome.error is not None:
        return batch_failure(outcome, "instance_ids", {"instances": instances})
    logger.info("Started %d %s instances", len(ids), name)
    return json_response({"count": len(ids), "instances": instances}, status=202)


def _instance_urls(req: func.HttpRequest, instance_id: str) -> dict[str, str]:
    urls = management_urls(req, instance_id)
    return {"id": instance_id, "statusQueryGetUri": urls["statusQueryGetUri"]}


@app.route(route="counters/{key}", methods=["GET"])
@traced_request
@api_errors
async def get_counter(req: func.HttpRequest) -> func.HttpResponse:
    """The counter's value; 404 until an operation has given it state (never signalled, or still queued)."""
    entity_id = _counter_id(req)
    metadata = await shared_client(settings).get_entity(entity_id)
    if metadata is None:
        raise ApiError(404, f"no counter with key '{entity_id.key}'", "key")
    return json_response(_counter_body(metadata))


@app.route(route="counters", methods=["GET"])
@traced_request
@api_errors
async def list_counters(req: func.HttpRequest) -> func.HttpResponse:
    """Every counter with its value, optionally only keys starting with ``?prefix=``."""
    prefix = req.params.get("prefix") or ""
    query = EntityQuery(instance_id_starts_with=f"@{counter.__name__}@{prefix}", include_state=True)
    entities = await shared_client(settings).get_all_entities(query)
    return json_response({"counters": [_counter_body(metadata) for metadata in entities]})


def _counter_body(metadata: EntityMetadata) -> dict[str, object]:
    """A counter as the API shows it; a scheduler that lists one without state shows it as 0."""
    return {
        "key": metadata.id.key,
        "value": (metadata.get_typed_state(int) if metadata.get_state() else None) or 0,
        "lastModifiedTime": utc_iso(metadata.last_modified),
    }


@app.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def health(req: func.HttpRequest) -> func.HttpResponse:
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


@app.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def openapi(req: func.HttpRequest) -> func.HttpResponse:
    """The OpenAPI 3.1 document of this API, with this request's base URL as its server."""
    return json_response(openapi_document(api_base_url(req)))
