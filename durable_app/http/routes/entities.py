"""Entity routes: Durable Functions' generic entity API for every declared entity, and the counter's own.

``/api/entities/{name}/{key}`` signals (``POST ?op=``, the JSON body as the operation's input) and reads
(``GET``) any declared entity, ``GET /api/entities/{name}`` lists them a page at a time with the
``x-ms-continuation-token`` header, as Durable Functions' built-in API does. Operation inputs are validated
against the types the entity declares. The ``/api/counters`` routes keep the counter's own shapes.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

import azure.functions as func
from durabletask.client import EntityQuery
from durabletask.entities import EntityInstanceId, EntityMetadata

from durable_app.http import answers
from durable_app.http import requests as inputs
from durable_app.http.batch import send_batch
from durable_app.http.declarations import Answer, Body, Given, Kind, Param, Route, Schema
from durable_app.http.errors import batch_failure
from durable_app.http.paging import entity_page
from durable_app.http.parameters import AMOUNT, CONTINUATION, ID, KEY, TEXT, TOP
from durable_app.http.requests import CONTINUATION_HEADER
from durable_app.http.responses import json_response
from durable_app.scheduler import shared_client
from durable_app.values import RefusedRequest, identifier, json_words, utc_iso
from durable_app.workflows import workflows
from durable_app.workflows.registry import Entity
from durable_app.workflows.request_models import validated_value

if TYPE_CHECKING:
    from durable_app.http.openapi.models import WorkflowSchemas

bp = func.Blueprint(http_auth_level=func.AuthLevel.FUNCTION)

COUNTER = "counter"


def declared_entity(name: str | None) -> Entity:
    """The entity declared as ``name``; any other name is a 404 naming the declared ones."""
    declaration = workflows.entities.get((name or "").lower())
    if declaration is None:
        choices = ", ".join(workflows.entities)
        raise RefusedRequest("name", f'no entity named "{name}"; use one of {choices}', status=404)
    return declaration


COUNTER_ENTITY = declared_entity(COUNTER)
"""The counter's declaration, looked up once: every counter route reads it."""


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


ENTITY = Kind({"type": "string", "enum": list(workflows.entities)}, lambda raw, _: declared_entity(raw))
ENTITY_NAME = Param("name", "path", ENTITY, "The entity's name.")
ALL_OPERATIONS = sorted({op for item in workflows.entities.values() for op in item.operations})


def _any_operation(raw: str, name: str) -> str:
    """An operation some declared entity has; whether the named entity has it is the body's check."""
    if raw not in ALL_OPERATIONS:
        raise RefusedRequest(name, f"{name} must be one of {', '.join(ALL_OPERATIONS)}, got {json_words(raw)}")
    return raw


OPERATION = Kind({"type": "string", "enum": ALL_OPERATIONS}, _any_operation)
NO_ENTITY = Answer(404, "No entity of that name; `field` is `name`.", answers.Error)
PAGED = (CONTINUATION_HEADER,)

SIGNAL_ENTITY = Route(
    "POST",
    "entities/{name}/{key}",
    "Signal an operation on an entity.",
    (
        ENTITY_NAME,
        KEY,
        Param(
            "op",
            "query",
            OPERATION,
            "The operation: "
            + "; ".join(f"{item.name}: {', '.join(item.operations)}" for item in workflows.entities.values()),
            required=True,
        ),
    ),
    Body(
        "The operation's input, as its entity declares it.",
        lambda body, _, given: operation_input(given["name"], given["op"], body, "body"),
        lambda schemas: schemas.operation_inputs(),
    ),
    (
        Answer(202, "The signal was queued.", answers.EntitySignal),
        Answer(400, "Bad input (an unknown operation, a bad input); `field` names it.", answers.Error),
        NO_ENTITY,
    ),
    subject="key",
)


@SIGNAL_ENTITY(bp)
async def signal_entity(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Signal ``?op=`` on one entity with the JSON body as its input; 202 once queued."""
    entity_id = EntityInstanceId(given["name"].name, given["key"])
    await shared_client().signal_entity(entity_id, given["op"], input=given["body"])
    return json_response({"name": entity_id.entity, "key": entity_id.key, "operation": given["op"]}, status=202)


GET_ENTITY = Route(
    "GET",
    "entities/{name}/{key}",
    "An entity's state.",
    (ENTITY_NAME, KEY),
    answers=(
        Answer(200, "The entity's state, as it stores it.", Any),
        answers.BAD_INPUT,
        Answer(404, "No entity of that name (`field` is `name`), or no state yet (`field` is `key`).", answers.Error),
    ),
    subject="key",
    shared=answers.SCHEDULER_ONLY,
)


@GET_ENTITY(bp)
async def get_entity(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """The entity's state, as Durable Functions answers it; 404 until an operation has given it state."""
    name = given["name"].name
    metadata = await _existing_entity(EntityInstanceId(name, given["key"]), f"{name} entity")
    return json_response(_state(metadata))


LIST_ENTITIES = Route(
    "GET",
    "entities/{name}",
    "List an entity's instances, a page at a time.",
    (ENTITY_NAME, TOP, CONTINUATION),
    answers=(
        Answer(
            200,
            "One page of entities; `x-ms-continuation-token` is set when more follow.",
            list[answers.EntityEntry],
            PAGED,
        ),
        Answer(400, "Bad input (`top`, a token this API did not issue); `field` names it.", answers.Error),
        NO_ENTITY,
    ),
    shared=answers.SCHEDULER_ONLY,
)


@LIST_ENTITIES(bp)
async def list_entities(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """One page of an entity's instances (``?top=``), the next page's token in ``x-ms-continuation-token``."""
    entities, headers = await _entity_page(given, given["name"].name, "")
    body = [
        {
            "entityId": {"name": metadata.id.entity, "key": metadata.id.key},
            "lastOperationTime": utc_iso(metadata.last_modified),
            "state": _state(metadata),
        }
        for metadata in entities
    ]
    return json_response(body, headers=headers)


async def _entity_page(given: Given, name: str, prefix: str) -> tuple[list[EntityMetadata], dict[str, str] | None]:
    """One page (``?top=``, the caller's ``x-ms-continuation-token``) of the entities named ``name`` whose keys
    start with ``prefix``, and the header naming the next page when one follows."""
    query = EntityQuery(instance_id_starts_with=f"@{name}@{prefix}", include_state=True, page_size=given["top"])
    entities, next_token = await entity_page(shared_client(), query, given[CONTINUATION_HEADER])
    return entities, {CONTINUATION_HEADER: next_token} if next_token else None


def _state(metadata: EntityMetadata) -> Any:
    serialized = metadata.get_state()
    return None if serialized is None else json.loads(serialized)


async def _existing_entity(entity_id: EntityInstanceId, kind: str) -> EntityMetadata:
    """The entity's metadata; 404 until an operation has given it state (never signalled, or still queued)."""
    metadata = await shared_client().get_entity(entity_id)
    if metadata is None:
        raise RefusedRequest("key", f"no {kind} with key '{entity_id.key}'", status=404)
    return metadata


def _counter_amount(body: Any, _: func.HttpRequest, given: Given) -> Any:
    """The amount for ``add``/``subtract``: a JSON integer body, ``{"amount": n}`` or ``?amount=n``."""
    if body is None:
        value = given["amount"]
    elif given["amount"] is not None:
        raise RefusedRequest("amount", "give amount in the body or the query string, not both")
    elif isinstance(body, dict):
        unknown = sorted(set(body) - {"amount"})
        if unknown:
            raise RefusedRequest(unknown[0], f'unknown field "{unknown[0]}"; expected "amount"')
        value = body.get("amount")
    else:
        value = body
    return operation_input(COUNTER_ENTITY, given["operation"], value, "amount")


def _counter_operation(value: Any) -> str:
    operations = COUNTER_ENTITY.operations
    if value not in operations:
        raise RefusedRequest("operation", f"operation must be one of {', '.join(operations)}, got {json_words(value)}")
    return value


COUNTER_OPERATION = Kind(
    {"type": "string", "enum": list(COUNTER_ENTITY.operations)}, lambda raw, _: _counter_operation(raw)
)

SIGNAL_COUNTER = Route(
    "POST",
    "counters/{key}/{operation}",
    "Signal add, subtract or reset.",
    (
        Param("key", "path", ID, "The counter's key."),
        Param("operation", "path", COUNTER_OPERATION),
        Param("amount", "query", AMOUNT, "The amount of add or subtract, when no body gives it."),
    ),
    Body(
        'add/subtract: the integer amount, as the body, {"amount": n} or ?amount=n. reset: no amount.',
        _counter_amount,
        lambda _: {
            "anyOf": [
                AMOUNT.schema,
                {"type": "object", "properties": {"amount": AMOUNT.schema}, "additionalProperties": False},
            ]
        },
    ),
    (
        Answer(202, "The signal was queued.", answers.Signal),
        Answer(400, "Bad input (a missing, extra or non-integer amount); `field` names it.", answers.Error),
    ),
    subject="key",
)


@SIGNAL_COUNTER(bp)
async def signal_counter(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Signal ``add``/``subtract`` (amount in the body or ``?amount=``) or ``reset``; 202 once queued."""
    key, operation, amount = given["key"], given["operation"], given["body"]
    await shared_client().signal_entity(EntityInstanceId(COUNTER, key), operation, input=amount)
    return json_response({"key": key, "operation": operation, "amount": amount}, status=202)


def _signals_schema(_: WorkflowSchemas) -> Schema:
    amount = {"anyOf": [AMOUNT.schema, {"type": "null"}]}
    counter = {"key": ID.schema, "operation": COUNTER_OPERATION.schema, "amount": amount}
    entity = {
        "entity": ENTITY.schema,
        "key": ID.schema,
        "operation": {"type": "string", "description": "One of the operations the entity declares."},
        "input": {"description": "The operation's input, as its entity declares it (none: leave it out)."},
    }
    entries = [
        {"type": "object", "required": required, "properties": properties, "additionalProperties": False}
        for required, properties in ((["key", "operation"], counter), (["entity", "key", "operation"], entity))
    ]
    signals = {"type": "array", "maxItems": inputs.MAX_BATCH_SIGNALS, "items": {"anyOf": entries}}
    return {
        "type": "object",
        "required": ["signals"],
        "properties": {"signals": signals},
        "additionalProperties": False,
    }


SIGNAL_BATCH = Route(
    "POST",
    "batch/signals",
    "Signal many entities in one request; signals to one entity are applied in the order given.",
    body=Body(
        f"Up to {inputs.MAX_BATCH_SIGNALS} signals: a counter's (`key`, `operation`, `amount`: add/subtract need "
        "one, reset takes none) or any declared entity's (`entity`, `key`, `operation`, `input`).",
        lambda body, _req, _given: signal_batch(body),
        _signals_schema,
        required=True,
    ),
    answers=(
        Answer(202, "Every signal was queued.", answers.SignalsQueued),
        Answer(400, "Bad input, nothing queued; `field` names it (`signals[3].amount`).", answers.Error),
        *answers.batch_failures(answers.BatchFailure),
    ),
    shared=answers.BATCH_SHARED,
    description=answers.BATCH_RULES,
)


@SIGNAL_BATCH(bp)
async def signal_counters(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Queue up to 1,000 signals: all validated first, sent concurrently, in order per entity."""
    signals = given["body"]
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
        amount = operation_input(COUNTER_ENTITY, operation, entry.get("amount"), "amount")
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


GET_COUNTER = Route(
    "GET",
    "counters/{key}",
    "A counter's value.",
    (Param("key", "path", ID, "The counter's key."),),
    answers=(
        Answer(200, "The counter's value.", answers.Counter),
        answers.BAD_INPUT,
        Answer(
            404, "The counter has no value yet: never signalled, or its first operation is still queued.", answers.Error
        ),
    ),
    subject="key",
    shared=answers.SCHEDULER_ONLY,
)


@GET_COUNTER(bp)
async def get_counter(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """The counter's value; 404 until an operation has given it state (never signalled, or still queued)."""
    return json_response(_counter_body(await _existing_entity(EntityInstanceId(COUNTER, given["key"]), "counter")))


LIST_COUNTERS = Route(
    "GET",
    "counters",
    "List counters, a page at a time.",
    (Param("prefix", "query", TEXT, "Only counters whose key starts with this.", default=""), TOP, CONTINUATION),
    answers=(
        Answer(
            200,
            "One page of counters (or of those whose key starts with the prefix); `x-ms-continuation-token` is set "
            "when more follow.",
            answers.Counters,
            PAGED,
        ),
        Answer(400, "Bad input (`top`, a token this API did not issue); `field` names it.", answers.Error),
    ),
    shared=answers.SCHEDULER_ONLY,
)


@LIST_COUNTERS(bp)
async def list_counters(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """One page of counters with their values (``?top=``, ``x-ms-continuation-token``), optionally only keys
    starting with ``?prefix=``."""
    entities, headers = await _entity_page(given, COUNTER, given["prefix"])
    return json_response({"counters": [_counter_body(metadata) for metadata in entities]}, headers=headers)


def _counter_body(metadata: EntityMetadata) -> dict[str, object]:
    """A counter as the API shows it; a scheduler that lists one without state shows it as 0."""
    return {
        "key": metadata.id.key,
        "value": (metadata.get_typed_state(int) if metadata.get_state() else None) or 0,
        "lastModifiedTime": utc_iso(metadata.last_modified),
    }
