"""The OpenAPI 3.1 description of the HTTP API, served at ``GET /api/openapi.json``.

Built in code from the same limits the triggers enforce (``durable_app.http_requests``), so the document
cannot drift from the validation; a test compares its paths and methods with the registered triggers.
Every error answer has the one shape ``{"error": str, "field": str | null}``.
"""

from __future__ import annotations

from durable_app.batch import MAX_IN_FLIGHT
from durable_app.http_requests import (
    BATCH_ORCHESTRATORS,
    DEFAULT_FAN_OUT_COUNT,
    ID_PATTERN,
    MAX_BATCH_SIGNALS,
    MAX_BATCH_STARTS,
    MAX_BATCH_WORK_ITEMS,
    MAX_FAN_OUT_ITEMS,
    MAX_NUMBER_MAGNITUDE,
    SIGNAL_OPERATIONS,
)
from durable_app.openapi_instances import TIMEOUT, instance_paths, instance_schemas, started_answers
from durable_app.openapi_parts import (
    COMMON_ERRORS,
    NUMBER,
    SCHEDULER_ERRORS,
    Schema,
    error_answer,
    json_answer,
    nullable,
    operation,
    optional_body,
    path_identifier,
    ref,
)


def _start(summary: str, body: Schema, query: list[Schema], path_id: bool) -> Schema:
    parameters = list(query)
    if path_id:
        parameters.insert(0, path_identifier("instance_id", "A caller-chosen id, reusable once its instance finished."))
    parameters.append(TIMEOUT)
    responses = {
        **started_answers(),
        "400": error_answer("Bad input; `field` names it."),
        "409": error_answer("An instance with this id is still running; `field` is `instance_id`."),
    }
    return {"post": operation(summary, responses, parameters=parameters, body=body)}


COUNT: Schema = {"type": "integer", "minimum": 0, "maximum": MAX_FAN_OUT_ITEMS}
KEY: Schema = {"type": "string", "pattern": ID_PATTERN}


def _fan_out_input() -> Schema:
    items = {"type": "array", "maxItems": MAX_FAN_OUT_ITEMS, "items": NUMBER}
    return {
        "anyOf": [
            items,
            {"type": "object", "properties": {"items": items}, "additionalProperties": False},
            {"type": "object", "properties": {"count": nullable(COUNT)}, "additionalProperties": False},
        ]
    }


def _entity_key_input() -> Schema:
    entity_key = {
        "type": "object",
        "properties": {"entity_key": KEY},
        "required": ["entity_key"],
        "additionalProperties": False,
    }
    return {"anyOf": [KEY, entity_key]}


def _fan_out(path_id: bool) -> Schema:
    count = COUNT
    body = optional_body(
        _fan_out_input(),
        f'A JSON array of numbers, {{"items": [...]}} or {{"count": n}} (items 1..n); at most '
        f"{MAX_FAN_OUT_ITEMS} items. Without a body (or with a null count): `?count=`, else "
        f"{DEFAULT_FAN_OUT_COUNT} items.",
    )
    query = [
        {
            "name": "count",
            "in": "query",
            "required": False,
            "allowEmptyValue": True,
            "schema": count,
            "description": "Items 1..count.",
        }
    ]
    return _start("Start a fan-out/fan-in orchestration.", body, query, path_id)


def _counter_workflow(path_id: bool) -> Schema:
    key = KEY
    body = optional_body(
        _entity_key_input(),
        'The entity key: {"entity_key": "k"}, the JSON string "k", or `?entity_key=k` without a body.',
    )
    query = [{"name": "entity_key", "in": "query", "required": False, "allowEmptyValue": True, "schema": key}]
    return _start("Start counter_workflow for an entity key.", body, query, path_id)


def _paths() -> Schema:
    return {
        "/orchestrators/fan_out_fan_in_orchestrator": _fan_out(path_id=False),
        "/orchestrators/fan_out_fan_in_orchestrator/{instance_id}": _fan_out(path_id=True),
        "/orchestrators/counter_workflow": _counter_workflow(path_id=False),
        "/orchestrators/counter_workflow/{instance_id}": _counter_workflow(path_id=True),
        **instance_paths(),
        "/counters/{key}/{operation}": _signal(),
        "/batch/signals": _signal_batch(),
        "/batch/orchestrators/{name}": _start_batch(),
        "/counters/{key}": _counter(),
        "/counters": _counters(),
        "/health": _health(),
        "/openapi.json": _openapi(),
    }


def _signal() -> Schema:
    amount = {"type": "integer", "minimum": -MAX_NUMBER_MAGNITUDE, "maximum": MAX_NUMBER_MAGNITUDE}
    operation_parameter = {
        "name": "operation",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": list(SIGNAL_OPERATIONS)},
    }
    body = optional_body(
        {
            "anyOf": [
                amount,
                {"type": "object", "properties": {"amount": amount}, "additionalProperties": False},
            ]
        },
        'add/subtract: the integer amount, as the body, {"amount": n} or ?amount=n. reset: no amount.',
    )
    query = {"name": "amount", "in": "query", "required": False, "allowEmptyValue": True, "schema": amount}
    responses = {
        "202": json_answer(ref("Signal"), "The signal was queued."),
        "400": error_answer("Bad input (a missing, extra or non-integer amount); `field` names it."),
    }
    key = path_identifier("key", "The counter's key.")
    return {
        "post": operation(
            "Signal add, subtract or reset.", responses, parameters=[key, operation_parameter, query], body=body
        )
    }


BATCH_RULES = (
    "Every entry is validated before anything is sent: one bad entry is a 400 naming it (`signals[3].amount`) "
    f"and nothing is queued. Entries are then sent concurrently, at most {MAX_IN_FLIGHT} at a time. If the "
    "scheduler refuses or fails part-way, no new entry is sent and the answer lists every entry's index under "
    "`queued` (acknowledged), `failed` (certainly not queued: refused, or not sent) or `uncertain` (the "
    "connection broke while it was in flight: it may have been queued)."
)


def _batch_failures(schema: str, conflict: str | None = None) -> dict[str, Schema]:
    failures = {
        "429": json_answer(ref(schema), "The scheduler refused an entry for load; the lists say which were queued."),
        "502": json_answer(ref(schema), "The scheduler failed an entry; the lists say which were queued."),
        "503": json_answer(ref(schema), "The scheduler became unreachable; the lists say which were queued."),
        "504": json_answer(ref(schema), "The scheduler did not answer in time; the lists say which were queued."),
    }
    if conflict:
        failures["409"] = json_answer(ref(schema), conflict)
    return failures


def _signal_batch() -> Schema:
    amount = {"type": "integer", "minimum": -MAX_NUMBER_MAGNITUDE, "maximum": MAX_NUMBER_MAGNITUDE}
    entry = {
        "type": "object",
        "required": ["key", "operation"],
        "properties": {
            "key": KEY,
            "operation": {"type": "string", "enum": list(SIGNAL_OPERATIONS)},
            "amount": nullable(amount),
        },
        "additionalProperties": False,
    }
    batch = {
        "type": "object",
        "required": ["signals"],
        "properties": {"signals": {"type": "array", "maxItems": MAX_BATCH_SIGNALS, "items": entry}},
        "additionalProperties": False,
    }
    body = {
        "required": True,
        "description": f"Up to {MAX_BATCH_SIGNALS} signals; add/subtract need an amount, reset takes none.",
        "content": {"application/json": {"schema": batch}},
    }
    responses = {
        "202": json_answer(ref("SignalsQueued"), "Every signal was queued."),
        "400": error_answer("Bad input, nothing queued; `field` names it (`signals[3].amount`)."),
    }
    common = {code: COMMON_ERRORS[code] for code in ("401", "413")}
    summary = "Signal many counters in one request; signals to one key are applied in the order given."
    described = operation(summary, responses, body=body, errors={**common, **_batch_failures("BatchFailure")})
    described["description"] = BATCH_RULES
    return {"post": described}


def _start_batch() -> Schema:
    name = {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "The orchestration to start.",
        "schema": {"type": "string", "enum": list(BATCH_ORCHESTRATORS)},
    }
    batch = {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "inputs": {
                "type": "array",
                "maxItems": MAX_BATCH_STARTS,
                "items": {"anyOf": [_fan_out_input(), _entity_key_input(), {"type": "null"}]},
            },
            "instance_ids": {"type": "array", "maxItems": MAX_BATCH_STARTS, "items": nullable(KEY)},
        },
        "additionalProperties": False,
    }
    body = {
        "required": True,
        "description": (
            f"Up to {MAX_BATCH_STARTS} inputs, each as the single start takes its body (fan-out: numbers, "
            '{"items": [...]}, {"count": n} or null; counter_workflow: {"entity_key": "k"} or "k"), at most '
            f"{MAX_BATCH_WORK_ITEMS} fan-out work items in all. Optional `instance_ids`: one per input, in the "
            "same order, null for a generated one."
        ),
        "content": {"application/json": {"schema": batch}},
    }
    responses = {
        "202": json_answer(ref("StartsQueued"), "Every instance was started."),
        "400": error_answer("Bad input, nothing started; `field` names it (`inputs[2].count`, `instance_ids[1]`)."),
        "404": error_answer("No orchestration of that name; `field` is `name`."),
    }
    conflict = "A chosen id is taken by a running instance; `field` names it (`instance_ids[1]`)."
    common = {code: COMMON_ERRORS[code] for code in ("401", "413")}
    errors = {**common, **_batch_failures("StartBatchFailure", conflict)}
    described = operation(
        "Start many instances of one orchestration in one request.",
        responses,
        parameters=[name],
        body=body,
        errors=errors,
    )
    described["description"] = BATCH_RULES.replace("signals[3].amount", "inputs[3].count")
    return {"post": described}


def _counter() -> Schema:
    responses = {
        "200": json_answer(ref("Counter"), "The counter's value."),
        "400": error_answer("Bad input; `field` names it."),
        "404": error_answer("The counter has no value yet: never signalled, or its first operation is still queued."),
    }
    key = path_identifier("key", "The counter's key.")
    return {"get": operation("A counter's value.", responses, parameters=[key], errors=SCHEDULER_ERRORS)}


def _counters() -> Schema:
    prefix = {"name": "prefix", "in": "query", "required": False, "schema": {"type": "string"}}
    responses = {
        "200": json_answer(
            {
                "type": "object",
                "required": ["counters"],
                "properties": {"counters": {"type": "array", "items": ref("Counter")}},
            },
            "Every counter, or those whose key starts with the prefix.",
        ),
    }
    return {"get": operation("List counters.", responses, parameters=[prefix], errors=SCHEDULER_ERRORS)}


def _health() -> Schema:
    responses = {
        "200": json_answer(ref("Health"), "The hosted worker is connected to the scheduler (or disabled)."),
        "503": json_answer(ref("Health"), "The hosted worker is not connected."),
    }
    return {"get": operation("Health of this process's hosted worker.", responses, errors={}, anonymous=True)}


def _openapi() -> Schema:
    responses = {"200": json_answer({"type": "object", "required": ["openapi", "paths"]}, "This document.")}
    return {"get": operation("This OpenAPI document.", responses, errors={}, anonymous=True)}


def _components() -> Schema:
    text = {"type": "string"}
    timestamp = {"type": "string", "format": "date-time"}
    url = {"type": "string"}
    indexes = {"type": "array", "items": {"type": "integer", "minimum": 0}}
    started = {
        "type": "array",
        "description": "One per input, in order: the instance's id and status URL.",
        "items": {
            "type": "object",
            "required": ["id", "statusQueryGetUri"],
            "properties": {"id": text, "statusQueryGetUri": url},
        },
    }
    batch_failure = {
        "type": "object",
        "description": "The error shape plus every entry's index, in exactly one of the three lists.",
        "required": ["error", "field", "queued", "failed", "uncertain"],
        "properties": {
            "error": text,
            "field": nullable(text),
            "queued": indexes,
            "failed": indexes,
            "uncertain": indexes,
        },
        "additionalProperties": False,
    }
    return {
        "securitySchemes": {
            "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
            "functionKeyHeader": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "field"],
                "properties": {"error": text, "field": nullable(text)},
                "additionalProperties": False,
            },
            **instance_schemas(),
            "Signal": {
                "type": "object",
                "required": ["key", "operation", "amount"],
                "properties": {
                    "key": text,
                    "operation": {"type": "string", "enum": list(SIGNAL_OPERATIONS)},
                    "amount": nullable({"type": "integer"}),
                },
            },
            "SignalsQueued": {
                "type": "object",
                "required": ["count", "queued"],
                "properties": {"count": {"type": "integer"}, "queued": indexes},
            },
            "StartsQueued": {
                "type": "object",
                "required": ["count", "instances"],
                "properties": {"count": {"type": "integer"}, "instances": started},
            },
            "BatchFailure": batch_failure,
            "StartBatchFailure": {
                **batch_failure,
                "required": [*batch_failure["required"], "instances"],
                "properties": {**batch_failure["properties"], "instances": started},
            },
            "Counter": {
                "type": "object",
                "required": ["key", "value", "lastModifiedTime"],
                "properties": {"key": text, "value": {"type": "integer"}, "lastModifiedTime": timestamp},
            },
            "Health": {
                "type": "object",
                "required": ["status", "worker", "scheduler"],
                "properties": {
                    "status": {"type": "string", "enum": ["healthy", "unhealthy"]},
                    "worker": {
                        "type": "object",
                        "required": ["enabled", "running", "connected"],
                        "properties": {
                            "enabled": {"type": "boolean"},
                            "running": {"type": "boolean"},
                            "connected": {"type": "boolean"},
                            "since": nullable(timestamp),
                            "lastError": nullable(text),
                        },
                    },
                    "scheduler": {
                        "type": "object",
                        "required": ["endpoint", "taskHub"],
                        "properties": {"endpoint": text, "taskHub": text},
                    },
                },
            },
        },
    }


def openapi_document(server_url: str | None = None) -> Schema:
    """The whole document; ``server_url`` (``scheme://host/api``) makes the operations callable as listed."""
    document: Schema = {
        "openapi": "3.1.0",
        "info": {
            "title": "Durable fan-out and counters",
            "version": "1.0.0",
            "description": (
                "Start fan-out/fan-in and counter orchestrations, manage their instances, and signal and read "
                'durable counters. Every error is {"error": "<message>", "field": "<request field or null>"}: '
                "every refusal of input (400, 404, 409, 413) names its field; it is null only for answers about "
                "no one field (a missing function key, a scheduler fault). Numbers are JSON numbers: a JSON "
                'string such as "5" is refused where a number is expected. '
                "Routes other than /health and /openapi.json need a function key in Azure."
            ),
        },
        "paths": _paths(),
        "components": _components(),
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
