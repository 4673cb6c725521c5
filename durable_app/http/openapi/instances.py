"""The OpenAPI description of the instance management routes (``durable_app.http.routes.instances``)."""

from __future__ import annotations

from durable_app.http.completion import MAX_WAIT_SECONDS
from durable_app.http.instance_queries import DEFAULT_PAGE_SIZE, MAX_PREFIX_LENGTH, TIMESTAMP_PATTERN
from durable_app.http.openapi.parts import (
    ISSUED_TOKEN,
    SCHEDULER_ERRORS,
    SENT_TOKEN,
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
from durable_app.http.requests import CONTINUATION_HEADER
from durable_app.http.responses import MANAGEMENT_URLS
from durable_app.scheduler import RUNTIME_STATUS
from durable_app.values import BOOLEAN_WORDS, EXISTING_ID_PATTERN, MAX_PAGE_SIZE, MAX_REASON_LENGTH

EXISTING_INSTANCE_ID: Schema = {
    "name": "instance_id",
    "in": "path",
    "required": True,
    "description": "The instance id: up to 256 characters, so the ids the app gives sub-orchestrations fit too.",
    "schema": {"type": "string", "pattern": EXISTING_ID_PATTERN},
}

FLAG: Schema = {"type": "string", "enum": list(BOOLEAN_WORDS)}

TIMEOUT: Schema = {
    "name": "timeout",
    "in": "query",
    "required": False,
    "description": (
        "Seconds to wait for the instance to finish within this request (decimals allowed; at most "
        f"{MAX_WAIT_SECONDS:g} s are waited, larger values wait that long): 200 with its status if it finishes "
        "in time, else the usual 202."
    ),
    "schema": {"type": "number", "minimum": 0},
}
"""``?timeout=`` of the start and restart routes."""


def started_answers() -> dict[str, Schema]:
    """What a start (or restart) answers: 202 check-status, or 200 with the status when ``timeout`` sufficed."""
    return {
        "200": json_answer(ref("InstanceStatus"), "Finished within `timeout`: the instance's status."),
        "202": {**json_answer(ref("ManagementUrls"), "Started; poll the Location URL."), "headers": STATUS_HEADERS},
    }


def _flag(name: str, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": FLAG}


def instance_paths() -> Schema:
    """The ``/instances/...`` path items."""
    return {
        "/instances": _instances(),
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
        "/instances/{instance_id}/rewind": _instance_action(
            "rewind",
            "Rewind a Failed instance: failed work runs again, completed work is kept.",
            "The instance is not Failed; the message names its status.",
        ),
        "/instances/{instance_id}/restart": _restart(),
        "/instances/{instance_id}/raiseEvent/{event_name}": _raise_event(),
        "/instances/{instance_id}/waiting": _waiting(),
    }


def _filters() -> list[Schema]:
    statuses = "|".join(RUNTIME_STATUS.values())
    status_list = {
        "name": "runtimeStatus",
        "in": "query",
        "required": False,
        "description": "Comma-separated runtime status names, spelled as shown (Running,Failed).",
        "schema": {"type": "string", "pattern": f"^({statuses})(,({statuses}))*$"},
    }
    timestamp: Schema = {"type": "string", "pattern": TIMESTAMP_PATTERN}
    created = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": f"ISO 8601; without an offset, UTC. {meaning}",
            "schema": timestamp,
        }
        for name, meaning in (
            ("createdTimeFrom", "Instances created at or after this time."),
            ("createdTimeTo", "Instances created before this time."),
        )
    ]
    return [status_list, *created]


def _instances() -> Schema:
    token = {
        "name": CONTINUATION_HEADER,
        "in": "header",
        "required": False,
        "description": (
            "The token a partial page answered with, sent back unchanged with the same filters: read the page "
            "after it. Opaque; a token this API did not issue for this listing is a 400."
        ),
        "schema": SENT_TOKEN,
    }
    list_only = [
        {
            "name": "instanceIdPrefix",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "maxLength": MAX_PREFIX_LENGTH},
        },
        _flag("showInput", "true includes each instance's input (default false)."),
        {
            "name": "top",
            "in": "query",
            "required": False,
            "description": f"Instances per page (default {DEFAULT_PAGE_SIZE}).",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        },
    ]
    page = json_answer({"type": "array", "items": ref("InstanceStatus")}, "One page of instances.")
    page["headers"] = {
        CONTINUATION_HEADER: {
            "description": "Present when more instances follow: send it back as the request header.",
            "schema": ISSUED_TOKEN,
        }
    }
    listed = operation(
        "List instances, one page at a time.",
        {"200": page, "400": error_answer("Bad input (a token this API did not issue too); `field` names it.")},
        parameters=[*_filters(), *list_only, token],
        errors=SCHEDULER_ERRORS,
    )
    purged = operation(
        "Purge every finished instance the filters match (at least one filter).",
        {
            "200": json_answer(ref("PurgedMany"), "The matching finished instances were purged."),
            "400": error_answer("No filter, a bad one, or a list-only parameter; `field` names it."),
            "404": error_answer("No finished instance matches the filters; nothing was purged."),
        },
        parameters=_filters(),
        errors=SCHEDULER_ERRORS,
    )
    return {"get": listed, "delete": purged}


def _instance_refusals(conflict: str | None = None) -> Schema:
    """What a route on one instance refuses: bad input, an unknown id and, where its state decides, ``conflict``."""
    answers = {"400": error_answer("Bad input; `field` names it."), "404": error_answer("No instance with this id.")}
    if conflict is not None:
        answers["409"] = error_answer(conflict)
    return answers


def _restart() -> Schema:
    new_id = _flag(
        "restartWithNewInstanceId",
        "true (the default) runs it under a new id, keeping the old instance; false replaces it under its id.",
    )
    responses = {
        **started_answers(),
        **_instance_refusals("The instance has not finished; the message names its status."),
    }
    summary = "Run a finished instance again with its original input."
    return {
        "post": operation(
            summary, responses, parameters=[EXISTING_INSTANCE_ID, new_id, TIMEOUT], errors=SCHEDULER_ERRORS
        )
    }


def _instance_action(action: str, summary: str, conflict: str) -> Schema:
    reason = {"type": "string", "maxLength": MAX_REASON_LENGTH}
    body = optional_body(
        {"type": "object", "properties": {"reason": reason}, "additionalProperties": False},
        'An optional {"reason": "..."}.',
    )
    responses = {
        "202": json_answer(ref("InstanceAction"), f"The {action} was requested."),
        **_instance_refusals(conflict),
    }
    query = {"name": "reason", "in": "query", "required": False, "allowEmptyValue": True, "schema": reason}
    return {"post": operation(summary, responses, parameters=[EXISTING_INSTANCE_ID, query], body=body)}


def _instance() -> Schema:
    flags = [
        _flag("showHistory", "true adds historyEvents, without outputs unless showHistoryOutput."),
        _flag("showHistoryOutput", "true keeps the results in historyEvents."),
        _flag("showInput", "false leaves input out, ExecutionStarted's in historyEvents too (default true)."),
        _flag("returnInternalServerErrorOnFailure", "true answers 500 for a Failed instance."),
        _flag("history", "true adds historyEvents with their outputs (this API's older spelling)."),
    ]
    get = operation(
        "An instance's status; 202 while it runs, 200 once it finished.",
        {
            "200": json_answer(ref("InstanceStatus"), "The instance has finished."),
            "202": {
                **json_answer(ref("InstanceStatus"), "The instance is pending, running or suspended."),
                **{"headers": STATUS_HEADERS},
            },
            **_instance_refusals(),
            "500": json_answer(ref("InstanceStatus"), "The instance failed and returnInternalServerErrorOnFailure."),
        },
        parameters=[EXISTING_INSTANCE_ID, *flags],
        errors=SCHEDULER_ERRORS,
    )
    delete = operation(
        "Purge a finished instance's history.",
        {
            "200": json_answer(ref("Purged"), "The instance was purged."),
            **_instance_refusals("The instance has not finished; terminate it first."),
        },
        parameters=[EXISTING_INSTANCE_ID],
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
        **_instance_refusals("The instance has already finished."),
    }
    return {
        "post": operation(
            "Raise an event on a running instance.", responses, parameters=[EXISTING_INSTANCE_ID, event_name], body=body
        )
    }


def _waiting() -> Schema:
    answers = {"200": json_answer(ref("InstanceWaiting"), "What the instance waits for now."), **_instance_refusals()}
    summary = "What an instance waits for: activities, sub-orchestrations and entity calls in flight, timers, locks."
    return {"get": operation(summary, answers, parameters=[EXISTING_INSTANCE_ID], errors=SCHEDULER_ERRORS)}


def _waiting_schema() -> Schema:
    text: Schema = {"type": "string"}
    timestamp: Schema = {"type": "string", "format": "date-time"}
    task_id: Schema = {"type": ["integer", "string"]}

    def work(*extra: str) -> Schema:
        properties = {"name": text, "taskId": task_id, "since": timestamp, **{name: text for name in extra}}
        return {"type": "array", "items": {"type": "object", "required": list(properties), "properties": properties}}

    timer = {"taskId": task_id, "since": timestamp, "fireAt": timestamp, "secondsLeft": {"type": "number"}}
    received = {"name": text, "at": timestamp}
    properties: Schema = {
        "instanceId": text,
        "runtimeStatus": {"type": "string", "enum": list(RUNTIME_STATUS.values())},
        "finished": {"type": "boolean", "description": "True once the instance has finished: it waits for nothing."},
        "activities": work(),
        "subOrchestrations": work("instanceId"),
        "entityCalls": work("entity"),
        "timers": {"type": "array", "items": {"type": "object", "required": list(timer), "properties": timer}},
        "entityLocks": {
            "type": "object",
            "required": ["requested", "held"],
            "properties": {"requested": {"type": "array", "items": text}, "held": {"type": "array", "items": text}},
        },
        "eventsReceived": {
            "type": "array",
            "items": {"type": "object", "required": list(received), "properties": received},
        },
        "waitsForAnEvent": {
            "type": "boolean",
            "description": "Unfinished with nothing in flight: the history does not name awaited events, so this "
            "says the instance can only be waiting for an external event.",
        },
    }
    return {"type": "object", "required": list(properties), "properties": properties}


def instance_schemas() -> Schema:
    """The components the instance routes answer with."""
    text: Schema = {"type": "string"}
    timestamp: Schema = {"type": "string", "format": "date-time"}
    return {
        "InstanceWaiting": _waiting_schema(),
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
                "version": {
                    **nullable(text),
                    "description": "The WORKFLOW_VERSION the instance was started under (null: none).",
                },
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
                "historyEvents": {"type": "array", "items": ref("HistoryEvent")},
            },
        },
        "HistoryEvent": {
            "type": "object",
            "description": (
                "One history event in Durable Functions' shape: a task's or sub-orchestration's scheduling is "
                "folded into the event that ended it; replay bookkeeping is left out."
            ),
            "required": ["EventType", "Timestamp"],
            "properties": {
                "EventType": {"type": "string", "examples": ["ExecutionStarted", "TaskCompleted", "EventRaised"]},
                "Timestamp": {"type": "string", "format": "date-time"},
                "FunctionName": {
                    "type": "string",
                    "description": "The orchestrator, activity or sub-orchestrator the event is about.",
                },
                "ScheduledTime": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the task or sub-orchestration that ended here was scheduled.",
                },
                "Input": {"description": "ExecutionStarted's input (as JSON), unless showInput=false."},
                "Result": {"description": "What completed (as JSON), with showHistoryOutput=true only."},
                "OrchestrationStatus": {"type": "string", "description": "ExecutionCompleted's status, by name."},
                "Reason": {"type": "string", "description": "A failure's message, or the reason a caller gave."},
                "Details": {"type": "string", "description": "A failure's error type, message and stack trace."},
                "Name": {"type": "string", "description": "An event's name (EventRaised, EventSent)."},
                "FireAt": {"type": "string", "format": "date-time", "description": "A timer's due time."},
            },
        },
        "InstanceAction": {
            "type": "object",
            "required": ["id", "action"],
            "properties": {
                "id": text,
                "action": {"type": "string", "enum": ["terminate", "suspend", "resume", "rewind"]},
            },
        },
        "RaisedEvent": {"type": "object", "required": ["id", "event"], "properties": {"id": text, "event": text}},
        "PurgedMany": {
            "type": "object",
            "required": ["instancesDeleted"],
            "properties": {"instancesDeleted": {"type": "integer", "minimum": 1}},
        },
        "ManagementUrls": {
            "type": "object",
            "description": "Each URL carries `code=<key>` when the request sent a function key, and never otherwise.",
            "required": ["id", *MANAGEMENT_URLS],
            "properties": {name: text for name in ("id", *MANAGEMENT_URLS)},
        },
        "Purged": {
            "type": "object",
            "required": ["id", "instancesDeleted"],
            "properties": {"id": text, "instancesDeleted": {"type": "integer"}},
        },
    }
