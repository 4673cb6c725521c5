"""The OpenAPI 3.1 description of the HTTP API, served at ``GET /api/openapi.json``.

The workflow routes are generated from the declarations and their request models
(``durable_app.http.openapi.workflows``), the rest built in code from the limits the triggers enforce, so the
document cannot drift from the validation; a test compares its paths and methods with the registered triggers.
Every error answer has the one shape ``{"error": str, "field": str | null}``.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from durable_app.http.batch import MAX_IN_FLIGHT
from durable_app.http.openapi.instances import instance_paths, instance_schemas
from durable_app.http.openapi.parts import (
    COMMON_ERRORS,
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
from durable_app.http.openapi.workflows import (
    KEY,
    PAGE_PARAMETERS,
    WorkflowSchemas,
    batch_start_description,
    entity_schemas,
    orchestrator_names,
    paged_answer,
)
from durable_app.http.requests import MAX_BATCH_SIGNALS, MAX_BATCH_STARTS
from durable_app.workflows import Amount, workflows

AMOUNT: Schema = TypeAdapter(Amount).json_schema()
"""A counter's amount, as the request model checks it."""


def _paths(generated: WorkflowSchemas) -> Schema:
    return {
        **generated.paths(),
        **instance_paths(),
        "/counters/{key}/{operation}": _signal(),
        "/batch/signals": _signal_batch(),
        "/batch/orchestrators/{name}": _start_batch(generated),
        "/counters/{key}": _counter(),
        "/counters": _counters(),
        "/health": _health(),
        "/openapi.json": _openapi(),
    }


def _signal() -> Schema:
    operation_parameter = {
        "name": "operation",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": _counter_operations()},
    }
    body = optional_body(
        {
            "anyOf": [
                AMOUNT,
                {"type": "object", "properties": {"amount": AMOUNT}, "additionalProperties": False},
            ]
        },
        'add/subtract: the integer amount, as the body, {"amount": n} or ?amount=n. reset: no amount.',
    )
    query = {"name": "amount", "in": "query", "required": False, "allowEmptyValue": True, "schema": AMOUNT}
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
    entry = {
        "type": "object",
        "required": ["key", "operation"],
        "properties": {
            "key": KEY,
            "operation": {"type": "string", "enum": _counter_operations()},
            "amount": nullable(AMOUNT),
        },
        "additionalProperties": False,
    }
    any_entity = {
        "type": "object",
        "required": ["entity", "key", "operation"],
        "properties": {
            "entity": {"type": "string", "enum": list(workflows.entities)},
            "key": KEY,
            "operation": {"type": "string", "description": "One of the operations the entity declares."},
            "input": {"description": "The operation's input, as its entity declares it (none: leave it out)."},
        },
        "additionalProperties": False,
    }
    batch = {
        "type": "object",
        "required": ["signals"],
        "properties": {
            "signals": {"type": "array", "maxItems": MAX_BATCH_SIGNALS, "items": {"anyOf": [entry, any_entity]}}
        },
        "additionalProperties": False,
    }
    body = {
        "required": True,
        "description": (
            f"Up to {MAX_BATCH_SIGNALS} signals: a counter's (`key`, `operation`, `amount`: add/subtract need "
            "one, reset takes none) or any declared entity's (`entity`, `key`, `operation`, `input`)."
        ),
        "content": {"application/json": {"schema": batch}},
    }
    responses = {
        "202": json_answer(ref("SignalsQueued"), "Every signal was queued."),
        "400": error_answer("Bad input, nothing queued; `field` names it (`signals[3].amount`)."),
    }
    common = {code: COMMON_ERRORS[code] for code in ("401", "413")}
    summary = "Signal many entities in one request; signals to one entity are applied in the order given."
    described = operation(summary, responses, body=body, errors={**common, **_batch_failures("BatchFailure")})
    described["description"] = BATCH_RULES
    return {"post": described}


def _start_batch(generated: WorkflowSchemas) -> Schema:
    name = {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "The orchestration to start.",
        "schema": {"type": "string", "enum": orchestrator_names()},
    }
    batch = {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "inputs": generated.batch_inputs(),
            "instance_ids": {"type": "array", "maxItems": MAX_BATCH_STARTS, "items": nullable(KEY)},
        },
        "additionalProperties": False,
    }
    body = {
        "required": True,
        "description": batch_start_description(),
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
    prefix = {
        "name": "prefix",
        "in": "query",
        "required": False,
        "description": "Only counters whose key starts with this.",
        "schema": {"type": "string"},
    }
    responses = {
        "200": paged_answer(
            "One page of counters (or of those whose key starts with the prefix); `x-ms-continuation-token` is "
            "set when more follow.",
            {
                "type": "object",
                "required": ["counters"],
                "properties": {"counters": {"type": "array", "items": ref("Counter")}},
            },
        ),
        "400": error_answer("Bad input (`top`, a token this API did not issue); `field` names it."),
    }
    parameters = [prefix, *PAGE_PARAMETERS]
    return {
        "get": operation("List counters, a page at a time.", responses, parameters=parameters, errors=SCHEDULER_ERRORS)
    }


def _health() -> Schema:
    responses = {
        "200": json_answer(ref("Health"), "The hosted worker is connected to the scheduler (or disabled)."),
        "503": json_answer(ref("Health"), "The hosted worker is not connected."),
    }
    return {"get": operation("Health of this process's hosted worker.", responses, errors={}, anonymous=True)}


def _openapi() -> Schema:
    responses = {"200": json_answer({"type": "object", "required": ["openapi", "paths"]}, "This document.")}
    return {"get": operation("This OpenAPI document.", responses, errors={}, anonymous=True)}


def _counter_operations() -> list[str]:
    return list(workflows.entities["counter"].operations)


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
            **entity_schemas(),
            "Signal": {
                "type": "object",
                "required": ["key", "operation", "amount"],
                "properties": {
                    "key": text,
                    "operation": {"type": "string", "enum": _counter_operations()},
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
    components = _components()
    generated = WorkflowSchemas(taken=components["schemas"])
    document: Schema = {
        "openapi": "3.1.0",
        "info": {
            "title": "Durable fan-out and counters",
            "version": "1.0.0",
            "description": (
                "Start the declared orchestrations, manage their instances, and signal and read the declared "
                'entities. Every error is {"error": "<message>", "field": "<request field or null>"}: '
                "every refusal of input (400, 404, 409, 413) names its field; it is null only for answers about "
                "no one field (a missing function key, a scheduler fault). Numbers are JSON numbers: a JSON "
                'string such as "5" is refused where a number is expected. '
                "Routes other than /health and /openapi.json need a function key in Azure."
            ),
        },
        "paths": _paths(generated),
        "components": components,
    }
    components["schemas"].update(generated.definitions)
    document["paths"] = _empty_query_values_count_as_none(document["paths"])
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


EMPTY_QUERY_VALUE: Schema = {"type": "string", "maxLength": 0, "description": "An empty value counts as none."}


def _empty_query_values_count_as_none(paths: Schema) -> Schema:
    """The Functions host drops a query parameter whose value is empty (``?subject=`` is no ``subject``), so
    every query parameter admits the empty string beside its own schema. Builds new operations: the parts
    they share with other documents stay as they are."""
    return {
        path: {
            method: {**described, "parameters": [_admitting_empty(parameter) for parameter in described["parameters"]]}
            if "parameters" in described
            else described
            for method, described in item.items()
        }
        for path, item in paths.items()
    }


def _admitting_empty(parameter: Schema) -> Schema:
    schema = parameter["schema"]
    if parameter["in"] != "query" or _takes_any_text(schema):
        return parameter
    return {**parameter, "allowEmptyValue": True, "schema": {"anyOf": [schema, EMPTY_QUERY_VALUE]}}


def _takes_any_text(schema: Schema) -> bool:
    constraints = ("minLength", "pattern", "enum", "const", "format")
    return schema.get("type") == "string" and not any(key in schema for key in constraints)
