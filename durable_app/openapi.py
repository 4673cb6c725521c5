"""The OpenAPI 3.1 description of the HTTP API, served at ``GET /api/openapi.json``.

Built in code from the same limits the triggers enforce (``durable_app.http_requests``), so the document
cannot drift from the validation; a test compares its paths and methods with the registered triggers.
Every error answer has the one shape ``{"error": str, "field": str | null}``.
"""

from __future__ import annotations

from typing import Any

from durable_app.batch import MAX_IN_FLIGHT
from durable_app.http_requests import (
    BATCH_ORCHESTRATORS,
    DEFAULT_FAN_OUT_COUNT,
    ID_PATTERN,
    MAX_BATCH_SIGNALS,
    MAX_BATCH_STARTS,
    MAX_BATCH_WORK_ITEMS,
    MAX_BODY_BYTES,
    MAX_FAN_OUT_ITEMS,
    MAX_NUMBER_MAGNITUDE,
    SIGNAL_OPERATIONS,
)
from durable_app.http_responses import RUNTIME_STATUS

Schema = dict[str, Any]

NUMBER: Schema = {"type": "number", "minimum": -MAX_NUMBER_MAGNITUDE, "maximum": MAX_NUMBER_MAGNITUDE}

FUNCTION_KEY_SECURITY: list[dict[str, list[str]]] = [{"functionKeyQuery": []}, {"functionKeyHeader": []}]
"""Routes at the FUNCTION auth level take the key as ``?code=`` or ``x-functions-key``."""


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> Schema:
    return _json(_ref("Error"), description)


def _header(description: str) -> Schema:
    return {"description": description, "schema": {"type": "string"}}


def _identifier(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": ID_PATTERN},
    }


INSTANCE_ID = _identifier("instance_id", "The orchestration instance id.")
STATUS_HEADERS = {
    "Location": _header("The instance's status URL."),
    "Retry-After": _header("Seconds to wait before polling again."),
}

COMMON_ERRORS: dict[str, Schema] = {
    "401": _error("A function key is required (only where the host enforces keys)."),
    "413": _error(f"The request body is larger than {MAX_BODY_BYTES} bytes."),
    "502": _error("The scheduler answered with an unexpected error."),
    "503": _error("The scheduler is unreachable."),
    "504": _error("The scheduler did not answer in time."),
}
"""Answers any route with a function key and a body may give, besides its own."""

SCHEDULER_ERRORS = {code: COMMON_ERRORS[code] for code in ("401", "502", "503", "504")}


def _operation(
    summary: str,
    responses: dict[str, Schema],
    *,
    parameters: list[Schema] | None = None,
    body: Schema | None = None,
    errors: dict[str, Schema] | None = None,
    anonymous: bool = False,
) -> Schema:
    operation: Schema = {"summary": summary, "responses": {**responses, **(errors or COMMON_ERRORS)}}
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = body
    operation["security"] = [] if anonymous else FUNCTION_KEY_SECURITY
    return operation


def _optional_body(schema: Schema, description: str) -> Schema:
    """A body that may be left out; the JSON literal ``null`` counts as no body."""
    content = {"application/json": {"schema": {"anyOf": [schema, {"type": "null"}]}}}
    return {"required": False, "description": f"{description} `null` is the same as no body.", "content": content}


def _start(summary: str, body: Schema, query: list[Schema], path_id: bool) -> Schema:
    parameters = list(query)
    if path_id:
        parameters.insert(0, _identifier("instance_id", "A caller-chosen id, reusable once its instance finished."))
    responses = {
        "202": {**_json(_ref("ManagementUrls"), "Started; poll the Location URL."), "headers": STATUS_HEADERS},
        "400": _error("Bad input; `field` names it."),
        "409": _error("An instance with this id is still running; `field` is `instance_id`."),
    }
    return {"post": _operation(summary, responses, parameters=parameters, body=body)}


COUNT: Schema = {"type": "integer", "minimum": 0, "maximum": MAX_FAN_OUT_ITEMS}
KEY: Schema = {"type": "string", "pattern": ID_PATTERN}


def _fan_out_input() -> Schema:
    items = {"type": "array", "maxItems": MAX_FAN_OUT_ITEMS, "items": NUMBER}
    return {
        "anyOf": [
            items,
            {"type": "object", "properties": {"items": items}, "additionalProperties": False},
            {"type": "object", "properties": {"count": _nullable(COUNT)}, "additionalProperties": False},
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
    body = _optional_body(
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
    body = _optional_body(
        _entity_key_input(),
        'The entity key: {"entity_key": "k"}, the JSON string "k", or `?entity_key=k` without a body.',
    )
    query = [{"name": "entity_key", "in": "query", "required": False, "allowEmptyValue": True, "schema": key}]
    return _start("Start counter_workflow for an entity key.", body, query, path_id)


def _instance_action(action: str, summary: str, conflict: str) -> Schema:
    reason = {"type": "string", "maxLength": 1000}
    body = _optional_body(
        {"type": "object", "properties": {"reason": reason}, "additionalProperties": False},
        'An optional {"reason": "..."}.',
    )
    responses = {
        "202": _json(_ref("InstanceAction"), f"The {action} was requested."),
        "400": _error("Bad input; `field` names it."),
        "404": _error("No instance with this id."),
        "409": _error(conflict),
    }
    query = {"name": "reason", "in": "query", "required": False, "allowEmptyValue": True, "schema": reason}
    return {"post": _operation(summary, responses, parameters=[INSTANCE_ID, query], body=body)}


def _paths() -> Schema:
    return {
        "/orchestrators/fan_out_fan_in_orchestrator": _fan_out(path_id=False),
        "/orchestrators/fan_out_fan_in_orchestrator/{instance_id}": _fan_out(path_id=True),
        "/orchestrators/counter_workflow": _counter_workflow(path_id=False),
        "/orchestrators/counter_workflow/{instance_id}": _counter_workflow(path_id=True),
        "/instances/{instance_id}": _instance(),
        "/instances/{instance_id}/terminate": _instance_action(
            "termination", "Terminate a running instance.", "The instance has already finished."
        ),
        "/instances/{instance_id}/suspend": _instance_action(
            "suspension", "Suspend a running instance.", "The instance has already finished."
        ),
        "/instances/{instance_id}/resume": _instance_action(
            "resumption", "Resume a suspended instance.", "The instance is not suspended."
        ),
        "/instances/{instance_id}/raiseEvent/{event_name}": _raise_event(),
        "/counters/{key}/{operation}": _signal(),
        "/batch/signals": _signal_batch(),
        "/batch/orchestrators/{name}": _start_batch(),
        "/counters/{key}": _counter(),
        "/counters": _counters(),
        "/health": _health(),
        "/openapi.json": _openapi(),
    }


def _instance() -> Schema:
    history = {
        "name": "history",
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "description": "true adds historyEvents.",
        "schema": {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]},
    }
    get = _operation(
        "An instance's status; 202 while it runs, 200 once it finished.",
        {
            "200": _json(_ref("InstanceStatus"), "The instance has finished."),
            "202": {
                **_json(_ref("InstanceStatus"), "The instance is pending, running or suspended."),
                **{"headers": STATUS_HEADERS},
            },
            "400": _error("Bad input; `field` names it."),
            "404": _error("No instance with this id."),
        },
        parameters=[INSTANCE_ID, history],
        errors=SCHEDULER_ERRORS,
    )
    delete = _operation(
        "Purge a finished instance's history.",
        {
            "200": _json(_ref("Purged"), "The instance was purged."),
            "400": _error("Bad input; `field` names it."),
            "404": _error("No instance with this id."),
            "409": _error("The instance is still running; terminate it first."),
        },
        parameters=[INSTANCE_ID],
        errors=SCHEDULER_ERRORS,
    )
    return {"get": get, "delete": delete}


def _raise_event() -> Schema:
    event_name = _identifier("event_name", "The event name the orchestration waits for.")
    body = {
        "required": False,
        "description": "Any JSON value (the event's data), or none.",
        "content": {"application/json": {"schema": {}}},
    }
    responses = {
        "202": _json(_ref("RaisedEvent"), "The event was delivered."),
        "400": _error("Bad input; `field` names it."),
        "404": _error("No instance with this id."),
        "409": _error("The instance has already finished."),
    }
    return {
        "post": _operation(
            "Raise an event on a running instance.", responses, parameters=[INSTANCE_ID, event_name], body=body
        )
    }


def _signal() -> Schema:
    amount = {"type": "integer", "minimum": -MAX_NUMBER_MAGNITUDE, "maximum": MAX_NUMBER_MAGNITUDE}
    operation = {
        "name": "operation",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": list(SIGNAL_OPERATIONS)},
    }
    body = _optional_body(
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
        "202": _json(_ref("Signal"), "The signal was queued."),
        "400": _error("Bad input (a missing, extra or non-integer amount); `field` names it."),
    }
    key = _identifier("key", "The counter's key.")
    return {
        "post": _operation("Signal add, subtract or reset.", responses, parameters=[key, operation, query], body=body)
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
        "429": _json(_ref(schema), "The scheduler refused an entry for load; the lists say which were queued."),
        "502": _json(_ref(schema), "The scheduler failed an entry; the lists say which were queued."),
        "503": _json(_ref(schema), "The scheduler became unreachable; the lists say which were queued."),
        "504": _json(_ref(schema), "The scheduler did not answer in time; the lists say which were queued."),
    }
    if conflict:
        failures["409"] = _json(_ref(schema), conflict)
    return failures


def _signal_batch() -> Schema:
    amount = {"type": "integer", "minimum": -MAX_NUMBER_MAGNITUDE, "maximum": MAX_NUMBER_MAGNITUDE}
    entry = {
        "type": "object",
        "required": ["key", "operation"],
        "properties": {
            "key": KEY,
            "operation": {"type": "string", "enum": list(SIGNAL_OPERATIONS)},
            "amount": _nullable(amount),
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
        "202": _json(_ref("SignalsQueued"), "Every signal was queued."),
        "400": _error("Bad input, nothing queued; `field` names it (`signals[3].amount`)."),
    }
    common = {code: COMMON_ERRORS[code] for code in ("401", "413")}
    summary = "Signal many counters in one request; signals to one key are applied in the order given."
    operation = _operation(summary, responses, body=body, errors={**common, **_batch_failures("BatchFailure")})
    operation["description"] = BATCH_RULES
    return {"post": operation}


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
            "instance_ids": {"type": "array", "maxItems": MAX_BATCH_STARTS, "items": _nullable(KEY)},
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
        "202": _json(_ref("StartsQueued"), "Every instance was started."),
        "400": _error("Bad input, nothing started; `field` names it (`inputs[2].count`, `instance_ids[1]`)."),
        "404": _error("No orchestration of that name; `field` is `name`."),
    }
    conflict = "A chosen id is taken by a running instance; `field` names it (`instance_ids[1]`)."
    common = {code: COMMON_ERRORS[code] for code in ("401", "413")}
    errors = {**common, **_batch_failures("StartBatchFailure", conflict)}
    operation = _operation(
        "Start many instances of one orchestration in one request.",
        responses,
        parameters=[name],
        body=body,
        errors=errors,
    )
    operation["description"] = BATCH_RULES.replace("signals[3].amount", "inputs[3].count")
    return {"post": operation}


def _counter() -> Schema:
    responses = {
        "200": _json(_ref("Counter"), "The counter's value."),
        "400": _error("Bad input; `field` names it."),
        "404": _error("The counter has no value yet: never signalled, or its first operation is still queued."),
    }
    key = _identifier("key", "The counter's key.")
    return {"get": _operation("A counter's value.", responses, parameters=[key], errors=SCHEDULER_ERRORS)}


def _counters() -> Schema:
    prefix = {"name": "prefix", "in": "query", "required": False, "schema": {"type": "string"}}
    responses = {
        "200": _json(
            {
                "type": "object",
                "required": ["counters"],
                "properties": {"counters": {"type": "array", "items": _ref("Counter")}},
            },
            "Every counter, or those whose key starts with the prefix.",
        ),
    }
    return {"get": _operation("List counters.", responses, parameters=[prefix], errors=SCHEDULER_ERRORS)}


def _health() -> Schema:
    responses = {
        "200": _json(_ref("Health"), "The hosted worker is connected to the scheduler (or disabled)."),
        "503": _json(_ref("Health"), "The hosted worker is not connected."),
    }
    return {"get": _operation("Health of this process's hosted worker.", responses, errors={}, anonymous=True)}


def _openapi() -> Schema:
    responses = {"200": _json({"type": "object", "required": ["openapi", "paths"]}, "This document.")}
    return {"get": _operation("This OpenAPI document.", responses, errors={}, anonymous=True)}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _components() -> Schema:
    text = {"type": "string"}
    timestamp = {"type": "string", "format": "date-time"}
    url = {"type": "string"}
    management = ["id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "suspendPostUri"]
    management += ["resumePostUri", "purgeHistoryDeleteUri"]
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
            "field": _nullable(text),
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
                "properties": {"error": text, "field": _nullable(text)},
                "additionalProperties": False,
            },
            "ManagementUrls": {
                "type": "object",
                "required": management,
                "properties": {name: url for name in management},
            },
            "InstanceStatus": {
                "type": "object",
                "required": ["name", "instanceId", "runtimeStatus", "createdTime", "lastUpdatedTime"],
                "properties": {
                    "name": text,
                    "instanceId": text,
                    "runtimeStatus": {"type": "string", "enum": list(RUNTIME_STATUS.values())},
                    "input": {},
                    "output": {},
                    "customStatus": {},
                    "createdTime": timestamp,
                    "lastUpdatedTime": timestamp,
                    "failureDetails": _nullable(
                        {
                            "type": "object",
                            "properties": {
                                "errorType": text,
                                "errorMessage": text,
                                "stackTrace": _nullable(text),
                            },
                        }
                    ),
                    "historyEvents": {"type": "array", "items": {"type": "object"}},
                },
            },
            "InstanceAction": {
                "type": "object",
                "required": ["id", "action"],
                "properties": {"id": text, "action": {"type": "string", "enum": ["terminate", "suspend", "resume"]}},
            },
            "RaisedEvent": {"type": "object", "required": ["id", "event"], "properties": {"id": text, "event": text}},
            "Purged": {
                "type": "object",
                "required": ["id", "instancesDeleted"],
                "properties": {"id": text, "instancesDeleted": {"type": "integer"}},
            },
            "Signal": {
                "type": "object",
                "required": ["key", "operation", "amount"],
                "properties": {
                    "key": text,
                    "operation": {"type": "string", "enum": list(SIGNAL_OPERATIONS)},
                    "amount": _nullable({"type": "integer"}),
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
                            "since": _nullable(timestamp),
                            "lastError": _nullable(text),
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
