"""The OpenAPI description of the instance management routes (``durable_app.instance_routes``)."""

from __future__ import annotations

from durable_app.http_responses import RUNTIME_STATUS
from durable_app.openapi_parts import (
    INSTANCE_ID,
    SCHEDULER_ERRORS,
    STATUS_HEADERS,
    Schema,
    error_answer,
    json_answer,
    nullable,
    operation,
    optional_body,
    path_identifier,
    ref,
)


def instance_paths() -> Schema:
    """The ``/instances/...`` path items."""
    return {
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
    }


def _instance_action(action: str, summary: str, conflict: str) -> Schema:
    reason = {"type": "string", "maxLength": 1000}
    body = optional_body(
        {"type": "object", "properties": {"reason": reason}, "additionalProperties": False},
        'An optional {"reason": "..."}.',
    )
    responses = {
        "202": json_answer(ref("InstanceAction"), f"The {action} was requested."),
        "400": error_answer("Bad input; `field` names it."),
        "404": error_answer("No instance with this id."),
        "409": error_answer(conflict),
    }
    query = {"name": "reason", "in": "query", "required": False, "allowEmptyValue": True, "schema": reason}
    return {"post": operation(summary, responses, parameters=[INSTANCE_ID, query], body=body)}


def _instance() -> Schema:
    history = {
        "name": "history",
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "description": "true adds historyEvents.",
        "schema": {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]},
    }
    get = operation(
        "An instance's status; 202 while it runs, 200 once it finished.",
        {
            "200": json_answer(ref("InstanceStatus"), "The instance has finished."),
            "202": {
                **json_answer(ref("InstanceStatus"), "The instance is pending, running or suspended."),
                **{"headers": STATUS_HEADERS},
            },
            "400": error_answer("Bad input; `field` names it."),
            "404": error_answer("No instance with this id."),
        },
        parameters=[INSTANCE_ID, history],
        errors=SCHEDULER_ERRORS,
    )
    delete = operation(
        "Purge a finished instance's history.",
        {
            "200": json_answer(ref("Purged"), "The instance was purged."),
            "400": error_answer("Bad input; `field` names it."),
            "404": error_answer("No instance with this id."),
            "409": error_answer("The instance is still running; terminate it first."),
        },
        parameters=[INSTANCE_ID],
        errors=SCHEDULER_ERRORS,
    )
    return {"get": get, "delete": delete}


def _raise_event() -> Schema:
    event_name = path_identifier("event_name", "The event name the orchestration waits for.")
    body = {
        "required": False,
        "description": "Any JSON value (the event's data), or none.",
        "content": {"application/json": {"schema": {}}},
    }
    responses = {
        "202": json_answer(ref("RaisedEvent"), "The event was delivered."),
        "400": error_answer("Bad input; `field` names it."),
        "404": error_answer("No instance with this id."),
        "409": error_answer("The instance has already finished."),
    }
    return {
        "post": operation(
            "Raise an event on a running instance.", responses, parameters=[INSTANCE_ID, event_name], body=body
        )
    }


def instance_schemas() -> Schema:
    """The components the instance routes answer with."""
    text: Schema = {"type": "string"}
    timestamp: Schema = {"type": "string", "format": "date-time"}
    return {
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
                "failureDetails": nullable(
                    {
                        "type": "object",
                        "properties": {
                            "errorType": text,
                            "errorMessage": text,
                            "stackTrace": nullable(text),
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
    }
