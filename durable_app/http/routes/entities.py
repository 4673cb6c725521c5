"""Entity routes: Durable Functions' generic entity API for every declared entity, and the counter's own.

``/api/entities/{name}/{key}`` signals (``POST ?op=``, the JSON body as the operation's input) and reads
(``GET``) any declared entity, ``GET /api/entities/{name}`` lists them a page at a time with the
``x-ms-continuation-token`` header, as Durable Functions' built-in API does. Operation inputs are validated
against the types the entity declares. The ``/api/counters`` routes keep the counter's own shapes.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import azure.functions as func
from durabletask.client import EntityQuery
from durabletask.entities import EntityInstanceId, EntityMetadata

from durable_app.http import requests as inputs
from durable_app.http.batch import send_batch
from durable_app.http.errors import api_errors, batch_failure
from durable_app.http.paging import entity_page
from durable_app.http.responses import json_response
from durable_app.http.tracing import traced_request
from durable_app.scheduler import shared_client
from durable_app.values import RefusedRequest, identifier, json_words, page_size, utc_iso
from durable_app.workflows import workflows
from durable_app.workflows.registry import Entity
from durable_app.workflows.request_models import validated_value

bp = func.Blueprint(http_auth_level=func.AuthLevel.FUNCTION)

COUNTER = "counter"


def declared_entity(name: str | None) -> Entity:
    """The entity declared as ``name``; any other name is a 404 naming the declared ones."""
    declaration = workflows.entities.get((name or "").lower())
    if declaration is None:
        choices = ", ".join(workflows.entities)
        raise RefusedRequest("name", f'no entity named "{name}"; use one of {choices}', status=404)
    return declaration


def operation_input(declaration: Entity, operation: Any, value: Any, field: str) -> Any:
    """An operation's input, validated against its declared type; an operation that takes none takes none."""
    if operation not in declaration.operations:
        choices = ", ".join(declaration.operations)
        name = "op" if field == "body" else "operation"
        raise RefusedRequest(name, f"{declaration.name} has no operation {json_words(operation)}; use {choices}")
    kind = declaration.operations[operation]
    if kind is None:
        if value is not None:
            raise RefusedRequest(field, f"{operation} takes no {field}")
        return None
    if value is None:
        raise RefusedRequest(field, f"{operation} needs {'an' if field == 'amount' else 'a'} {field}")
    return validated_value(kind, value, field)


@bp.route(route="entities/{name}/{key}", methods=["POST"])
@traced_request
@api_errors(subject="key")
async def signal_entity(req: func.HttpRequest) -> func.HttpResponse:
    """Signal ``?op=`` on one entity with the JSON body as its input; 202 once queued."""
    declaration = declared_entity(req.route_params.get("name"))
    entity_id = _entity_id(req, declaration.name)
    operation = req.params.get("op")
    if operation is None:
        raise RefusedRequest("op", f"op is required: one of {', '.join(declaration.operations)}")
    value = operation_input(declaration, operation, inputs.json_body(req), "body")
    await shared_client().signal_entity(entity_id, operation, input=value)
    return json_response({"name": declaration.name, "key": entity_id.key, "operation": operation}, status=202)


@bp.route(route="entities/{name}/{key}", methods=["GET"])
@traced_request
@api_errors(subject="key")
async def get_entity(req: func.HttpRequest) -> func.HttpResponse:
    """The entity's state, as Durable Functions answers it; 404 until an operation has given it state."""
    declaration = declared_entity(req.route_params.get("name"))
    metadata = await _existing_entity(_entity_id(req, declaration.name), f"{declaration.name} entity")
    return json_response(_state(metadata))


@bp.route(route="entities/{name}", methods=["GET"])
@traced_request
@api_errors(subject="body")
async def list_entities(req: func.HttpRequest) -> func.HttpResponse:
    """One page of an entity's instances (``?top=``), the next page's token in ``x-ms-continuation-token``."""
    declaration = declared_entity(req.route_params.get("name"))
    entities, headers = await _entity_page(req, declaration.name, "")
    body = [
        {
            "entityId": {"name": metadata.id.entity, "key": metadata.id.key},
            "lastOperationTime": utc_iso(metadata.last_modified),
            "state": _state(metadata),
        }
        for metadata in entities
    ]
    return json_response(body, headers=headers)


async def _entity_page(
    req: func.HttpRequest, name: str, prefix: str
) -> tuple[list[EntityMetadata], dict[str, str] | None]:
    """One page (``?top=``, the caller's ``x-ms-continuation-token``) of the entities named ``name`` whose keys
    start with ``prefix``, and the header naming the next page when one follows."""
    top = page_size(req.params.get("top"), None)
    token = inputs.continuation_token(req.headers)
    query = EntityQuery(instance_id_starts_with=f"@{name}@{prefix}", include_state=True, page_size=top)
    entities, next_token = await entity_page(shared_client(), query, token)
    return entities, {inputs.CONTINUATION_HEADER: next_token} if next_token else None


def _state(metadata: EntityMetadata) -> Any:
    serialized = metadata.get_state()
    return None if serialized is None else json.loads(serialized)


def _entity_id(req: func.HttpRequest, name: str) -> EntityInstanceId:
    """The entity named ``name`` with the key the route names."""
    return EntityInstanceId(name, identifier(req.route_params.get("key"), "key"))


async def _existing_entity(entity_id: EntityInstanceId, kind: str) -> EntityMetadata:
    """The entity's metadata; 404 until an operation has given it state (never signalled, or still queued)."""
    metadata = await shared_client().get_entity(entity_id)
    if metadata is None:
        raise RefusedRequest("key", f"no {kind} with key '{entity_id.key}'", status=404)
    return metadata


def _counter_amount(operation: str, body: Any, params: Any) -> Any:
    """The amount for ``add``/``subtract``: a JSON integer body, ``{"amount": n}`` or ``?amount=n``."""
    if body is None:
        value = inputs.query_integer(params.get("amount"), "amount")
    elif params.get("amount") is not None:
        raise RefusedRequest("amount", "give amount in the body or the query string, not both")
    elif isinstance(body, dict):
        unknown = sorted(set(body) - {"amount"})
        if unknown:
            raise RefusedRequest(unknown[0], f'unknown field "{unknown[0]}"; expected "amount"')
        value = body.get("amount")
    else:
        value = body
    return operation_input(declared_entity(COUNTER), operation, value, "amount")


def _counter_operation(value: Any) -> str:
    operations = declared_entity(COUNTER).operations
    if value not in operations:
        raise RefusedRequest("operation", f"operation must be one of {', '.join(operations)}, got {json_words(value)}")
    return value


@bp.route(route="counters/{key}/{operation}", methods=["POST"])
@traced_request
@api_errors(subject="key")
async def signal_counter(req: func.HttpRequest) -> func.HttpResponse:
    """Signal ``add``/``subtract`` (amount in the body or ``?amount=``) or ``reset``; 202 once queued."""
    entity_id = _entity_id(req, COUNTER)
    operation = _counter_operation(req.route_params.get("operation"))
    amount = _counter_amount(operation, inputs.json_body(req), req.params)
    await shared_client().signal_entity(entity_id, operation, input=amount)
    return json_response({"key": entity_id.key, "operation": operation, "amount": amount}, status=202)


@bp.route(route="batch/signals", methods=["POST"])
@traced_request
@api_errors(subject="body")
async def signal_counters(req: func.HttpRequest) -> func.HttpResponse:
    """Queue up to 1,000 signals: all validated first, sent concurrently, in order per entity."""
    signals = signal_batch(inputs.json_body(req))
    client = shared_client()
    calls = [
        functools.partial(client.signal_entity, entity_id, operation, input=value)
        for entity_id, operation, value in signals
    ]
    outcome = await send_batch(calls, keys=[str(entity_id) for entity_id, _, _ in signals])
    if outcome.error is not None:
        return batch_failure(outcome, "signals", {})
    return json_response({"count": len(signals), "queued": outcome.lists()["queued"]}, status=202)


def signal_batch(body: Any) -> list[tuple[EntityInstanceId, str, Any]]:
    """``{"signals": [...]}``: each entry a counter's ``{"key", "operation", "amount"}`` or any declared entity's
    ``{"entity", "key", "operation", "input"}``, every entry checked before any is sent."""
    entries = inputs.batch_list(body, "signals", inputs.MAX_BATCH_SIGNALS, optional=())
    return [_signal_entry(entry, f"signals[{index}]") for index, entry in enumerate(entries)]


def _signal_entry(entry: Any, field: str) -> tuple[EntityInstanceId, str, Any]:
    """One entry of a signal batch: a counter's, or, with ``entity``, any declared entity's."""
    if not isinstance(entry, dict):
        message = f'{field} must be an object {{"key", "operation", "amount"}}, got {json_words(entry)}'
        raise RefusedRequest(field, message)
    if "entity" in entry:
        return _entity_signal_entry(entry, field)
    _refuse_unknown(entry, field, ("key", "operation", "amount"))
    with inputs.within(field):
        key = identifier(entry.get("key"), "key")
        operation = _counter_operation(entry.get("operation"))
        amount = operation_input(declared_entity(COUNTER), operation, entry.get("amount"), "amount")
    return EntityInstanceId(COUNTER, key), operation, amount


def _entity_signal_entry(entry: dict[str, Any], field: str) -> tuple[EntityInstanceId, str, Any]:
    """``{"entity", "key", "operation", "input"}``: the input validated against the operation's declared type."""
    _refuse_unknown(entry, field, ("entity", "key", "operation", "input"))
    with inputs.within(field):
        name = entry["entity"]
        declaration = workflows.entities.get(name) if isinstance(name, str) else None
        if declaration is None:
            choices = ", ".join(workflows.entities)
            raise RefusedRequest("entity", f"entity must be one of {choices}, got {json_words(name)}")
        key = identifier(entry.get("key"), "key")
        operation = entry.get("operation")
        if operation is None:
            raise RefusedRequest("operation", f"operation is required: one of {', '.join(declaration.operations)}")
        value = operation_input(declaration, operation, entry.get("input"), "input")
    return EntityInstanceId(declaration.name, key), operation, value


def _refuse_unknown(entry: dict[str, Any], field: str, known: tuple[str, ...]) -> None:
    unknown = sorted(set(entry) - set(known))
    if unknown:
        raise RefusedRequest(f"{field}.{unknown[0]}", f'{field}: unknown field "{unknown[0]}"')


@bp.route(route="counters/{key}", methods=["GET"])
@traced_request
@api_errors(subject="key")
async def get_counter(req: func.HttpRequest) -> func.HttpResponse:
    """The counter's value; 404 until an operation has given it state (never signalled, or still queued)."""
    return json_response(_counter_body(await _existing_entity(_entity_id(req, COUNTER), "counter")))


@bp.route(route="counters", methods=["GET"])
@traced_request
@api_errors(subject="body")
async def list_counters(req: func.HttpRequest) -> func.HttpResponse:
    """One page of counters with their values (``?top=``, ``x-ms-continuation-token``), optionally only keys
    starting with ``?prefix=``."""
    entities, headers = await _entity_page(req, COUNTER, req.params.get("prefix") or "")
    return json_response({"counters": [_counter_body(metadata) for metadata in entities]}, headers=headers)


def _counter_body(metadata: EntityMetadata) -> dict[str, object]:
    """A counter as the API shows it; a scheduler that lists one without state shows it as 0."""
    return {
        "key": metadata.id.key,
        "value": (metadata.get_typed_state(int) if metadata.get_state() else None) or 0,
        "lastModifiedTime": utc_iso(metadata.last_modified),
    }
