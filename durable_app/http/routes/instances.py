"""The instance management routes (``/api/instances...``), in Durable Functions' shapes.

A :class:`azure.functions.Blueprint` that ``function_app.py`` registers: list and purge by filter, status,
terminate, suspend, resume, raise event, rewind, restart and purge, with Durable Functions' parameter names.

Rewind, restart and purge make one scheduler call and answer from its outcome: the scheduler refuses an
unknown instance (``NOT_FOUND``, 404) or one in the wrong state (``FAILED_PRECONDITION``, 409), so no state
read can go stale between a check and the action. Terminate, suspend, resume and raise event read the state
first: the protocol accepts them for a finished instance and changes nothing, so only a read can tell the
caller that the action no longer applies (Durable Functions' own handlers read first too).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import grpc
from durabletask.client import OrchestrationState, OrchestrationStatus

from durable_app.http import answers
from durable_app.http import instance_queries as queries
from durable_app.http.completion import completion_or_check_status
from durable_app.http.declarations import Answer, Body, Given, Param, Route
from durable_app.http.history import history_events
from durable_app.http.paging import instance_page
from durable_app.http.parameters import (
    ACTION_REASON,
    CONTINUATION,
    FLAG,
    ID,
    INSTANCE_ID,
    PAGE_SIZE,
    PREFIX,
    STATUSES,
    TIMEOUT,
    TIMESTAMP,
)
from durable_app.http.requests import CONTINUATION_HEADER
from durable_app.http.responses import json_response, status_body, status_response
from durable_app.replay import instance_waiting
from durable_app.scheduler import TERMINAL, instance_state, shared_client, status_name
from durable_app.telemetry import ATTR_INSTANCE_ID, annotate
from durable_app.values import MAX_REASON_LENGTH, RefusedRequest, reason

logger = logging.getLogger(__name__)

bp = func.Blueprint(http_auth_level=func.AuthLevel.FUNCTION)

NO_INSTANCE = Answer(404, "No instance with this id.", answers.Error)

FILTERS = (
    Param(
        "runtimeStatus", "query", STATUSES, "Comma-separated runtime status names, spelled as shown (Running,Failed)."
    ),
    Param(
        "createdTimeFrom",
        "query",
        TIMESTAMP,
        "ISO 8601; without an offset, UTC. Instances created at or after this time.",
    ),
    Param("createdTimeTo", "query", TIMESTAMP, "ISO 8601; without an offset, UTC. Instances created before this time."),
)


def _reason_body(body: Any, req: func.HttpRequest, given: Given) -> str | None:
    """The action's reason: ``?reason=`` or ``{"reason": ...}`` (one of them), or none."""
    if body is None:
        return given["reason"]
    if not isinstance(body, dict):
        raise RefusedRequest("body", 'body must be {"reason": "..."} or empty')
    if given["reason"] is not None:
        raise RefusedRequest("reason", "give reason in the body or the query string, not both")
    unknown = sorted(set(body) - {"reason"})
    if unknown:
        raise RefusedRequest(unknown[0], f'unknown field "{unknown[0]}"; expected "reason"')
    return reason(body.get("reason"))


REASON_BODY = Body(
    'An optional {"reason": "..."}.',
    _reason_body,
    lambda _: {"type": "object", "properties": {"reason": {"type": "string", "maxLength": MAX_REASON_LENGTH}},
               "additionalProperties": False},
)  # fmt: skip


def _action(action: str, noun: str, summary: str, conflict: str) -> Route:
    """Terminate, suspend, resume and rewind: an instance, an optional reason, 202 once requested."""
    return Route(
        "POST",
        f"instances/{{instance_id}}/{action}",
        summary,
        (INSTANCE_ID, ACTION_REASON),
        REASON_BODY,
        (Answer(202, f"The {noun} was requested.", answers.InstanceAction), answers.BAD_INPUT, NO_INSTANCE,
         Answer(409, conflict, answers.Error)),
        subject="instance_id",
    )  # fmt: skip


async def _existing_state(instance_id: str, *, fetch_payloads: bool = False) -> OrchestrationState:
    state = await shared_client().get_orchestration_state(instance_id, fetch_payloads=fetch_payloads)
    if state is None:
        raise _no_instance(instance_id)
    return state


async def _refuse_finished(instance_id: str, *, unless_suspended: bool = False) -> None:
    """409 for an action the protocol accepts for a finished (or, ``unless_suspended``, an unsuspended)
    instance and then ignores: only a read can tell the caller the action no longer applies."""
    status = (await _existing_state(instance_id)).runtime_status
    if unless_suspended and status is not OrchestrationStatus.SUSPENDED:
        raise RefusedRequest("instance_id", f"instance '{instance_id}' is not suspended", status=409)
    if status in TERMINAL:
        raise RefusedRequest("instance_id", f"instance '{instance_id}' has already finished", status=409)


def _no_instance(instance_id: str) -> RefusedRequest:
    return RefusedRequest("instance_id", f"no instance with id '{instance_id}'", status=404)


def _accepted(instance_id: str, action: str) -> func.HttpResponse:
    return json_response({"id": instance_id, "action": action}, status=202)


LIST = Route(
    "GET",
    "instances",
    "List instances, one page at a time.",
    (
        *FILTERS,
        Param("instanceIdPrefix", "query", PREFIX, "Only instances whose id starts with this."),
        Param("showInput", "query", FLAG, "true includes each instance's input (default false).", default=False),
        Param(
            "top",
            "query",
            PAGE_SIZE,
            f"Instances per page (default {queries.DEFAULT_PAGE_SIZE}).",
            default=queries.DEFAULT_PAGE_SIZE,
        ),
        CONTINUATION,
    ),
    answers=(
        Answer(200, "One page of instances.", list[answers.InstanceStatus], (CONTINUATION_HEADER,)),
        Answer(400, "Bad input (a token this API did not issue too); `field` names it.", answers.Error),
    ),
    shared=answers.SCHEDULER_ONLY,
)


@LIST(bp)
async def list_instances(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """One page of instances; a partial page names the next in its ``x-ms-continuation-token`` header."""
    states, next_token = await instance_page(shared_client(), queries.list_query(given), given[CONTINUATION_HEADER])
    body = [status_body(state, show_input=given["showInput"]) for state in states]
    headers = {CONTINUATION_HEADER: next_token} if next_token else None
    return json_response(body, headers=headers)


PURGE_MANY = Route(
    "DELETE",
    "instances",
    "Purge every finished instance the filters match (at least one filter).",
    FILTERS,
    answers=(
        Answer(200, "The matching finished instances were purged.", answers.PurgedMany),
        Answer(400, "No filter, a bad one, or a list-only parameter; `field` names it.", answers.Error),
        Answer(404, "No finished instance matches the filters; nothing was purged.", answers.Error),
    ),
    shared=answers.SCHEDULER_ONLY,
)


@PURGE_MANY(bp)
async def purge_instances(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Purge every finished instance the filters match: 200 with the count, 404 when none matched."""
    filters = queries.purge_filter(given, req.params)
    result = await shared_client().purge_orchestrations_by(
        created_time_from=filters.created_from,
        created_time_to=filters.created_to,
        runtime_status=filters.statuses or None,
        recursive=True,
    )
    if result.deleted_instance_count == 0:
        raise RefusedRequest(None, "no finished instance matches the filters", status=404)
    logger.info("Purged %d instances by filter", result.deleted_instance_count)
    return json_response({"instancesDeleted": result.deleted_instance_count})


STATUS = Route(
    "GET",
    "instances/{instance_id}",
    "An instance's status; 202 while it runs, 200 once it finished.",
    (
        INSTANCE_ID,
        Param("showHistory", "query", FLAG, "true adds historyEvents, without outputs unless showHistoryOutput."),
        Param("showHistoryOutput", "query", FLAG, "true keeps the results in historyEvents."),
        Param(
            "showInput", "query", FLAG, "false leaves input out, ExecutionStarted's too (default true).", default=True
        ),
        Param("returnInternalServerErrorOnFailure", "query", FLAG, "true answers 500 for a Failed instance."),
        Param("history", "query", FLAG, "true adds historyEvents with their outputs (this API's older spelling)."),
    ),
    answers=(
        Answer(200, "The instance has finished.", answers.InstanceStatus),
        Answer(
            202, "The instance is pending, running or suspended.", answers.InstanceStatus, ("Location", "Retry-After")
        ),
        answers.BAD_INPUT,
        NO_INSTANCE,
        Answer(500, "The instance failed and returnInternalServerErrorOnFailure.", answers.InstanceStatus),
    ),
    subject="instance_id",
    shared=answers.SCHEDULER_ONLY,
)


@STATUS(bp)
async def get_instance_status(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Status, output and custom status, with Durable Functions' ``showInput`` (default true),
    ``showHistory``, ``showHistoryOutput`` and ``returnInternalServerErrorOnFailure``.

    ``history=true``, this API's older spelling, still adds the history with its outputs.
    """
    instance_id = given["instance_id"]
    state = await instance_state(shared_client(), instance_id)
    if state is None:
        raise _no_instance(instance_id)
    body = status_body(state, show_input=given["showInput"])
    if given["showHistory"] or given["history"]:
        events = await shared_client().get_orchestration_history(instance_id)
        with_outputs = given["showHistoryOutput"] or given["history"]
        body["historyEvents"] = history_events(events, with_outputs=with_outputs, show_input=given["showInput"])
    return status_response(req, body, state, failed_as_500=given["returnInternalServerErrorOnFailure"])


WAITING = Route(
    "GET",
    "instances/{instance_id}/waiting",
    "What an instance waits for: activities, sub-orchestrations and entity calls in flight, timers, locks, events.",
    (INSTANCE_ID,),
    answers=(Answer(200, "What the instance waits for now.", answers.InstanceWaiting), answers.BAD_INPUT, NO_INSTANCE),
    subject="instance_id",
    shared=answers.SCHEDULER_ONLY,
)


@WAITING(bp)
async def get_instance_waiting(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """What the instance waits for (``durable_app.replay.instance_waiting``): work in flight, timers, entity locks,
    the events received and, by replaying its orchestrator in a thread (CPU-bound), the events it awaits."""
    instance_id = given["instance_id"]
    state = await _existing_state(instance_id)
    events = await shared_client().get_orchestration_history(instance_id)
    found = (await asyncio.to_thread(instance_waiting, state.name, instance_id, events)).to_json(datetime.now(UTC))
    return json_response({"instanceId": instance_id, "runtimeStatus": status_name(state.runtime_status), **found})


TERMINATE = _action("terminate", "termination", "Terminate a running instance.", "The instance has already finished.")


@TERMINATE(bp)
async def terminate_instance(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Stop an unfinished instance for good; the reason becomes its output."""
    instance_id = given["instance_id"]
    await _refuse_finished(instance_id)
    await shared_client().terminate_orchestration(instance_id, output=given["body"])
    return _accepted(instance_id, "terminate")


SUSPEND = _action("suspend", "suspension", "Suspend a running instance.", "The instance has already finished.")


@SUSPEND(bp)
async def suspend_instance(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Pause an unfinished instance: events still queue, and nothing runs until it is resumed."""
    instance_id = given["instance_id"]
    await _refuse_finished(instance_id)
    await shared_client().suspend_orchestration(instance_id, reason=given["body"])
    return _accepted(instance_id, "suspend")


RESUME = _action("resume", "resumption", "Resume a suspended instance.", "The instance is not suspended.")


@RESUME(bp)
async def resume_instance(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Let a suspended instance run again, from where it paused."""
    instance_id = given["instance_id"]
    await _refuse_finished(instance_id, unless_suspended=True)
    await shared_client().resume_orchestration(instance_id, reason=given["body"])
    return _accepted(instance_id, "resume")


RAISE_EVENT = Route(
    "POST",
    "instances/{instance_id}/raiseEvent/{event_name}",
    "Raise an event on a running instance.",
    (INSTANCE_ID, Param("event_name", "path", ID, "The event name the orchestration waits for.")),
    Body("Any JSON value (the event's data), or none.", lambda body, _req, _given: body, lambda _: {}),
    (
        Answer(202, "The event was delivered.", answers.RaisedEvent),
        answers.BAD_INPUT,
        NO_INSTANCE,
        Answer(409, "The instance has already finished.", answers.Error),
    ),
    subject="instance_id",
)


@RAISE_EVENT(bp)
async def raise_event(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Deliver an external event (any JSON body, or none) to a running instance."""
    instance_id, event_name = given["instance_id"], given["event_name"]
    await _refuse_finished(instance_id)
    await shared_client().raise_orchestration_event(instance_id, event_name, data=given["body"])
    return json_response({"id": instance_id, "event": event_name}, status=202)


PURGE = Route(
    "DELETE",
    "instances/{instance_id}",
    "Purge a finished instance's history.",
    (INSTANCE_ID,),
    answers=(
        Answer(200, "The instance was purged.", answers.Purged),
        answers.BAD_INPUT,
        NO_INSTANCE,
        Answer(409, "The instance has not finished; terminate it first.", answers.Error),
    ),
    subject="instance_id",
    shared=answers.SCHEDULER_ONLY,
)


@PURGE(bp)
async def purge_instance(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Delete a finished instance's history; the scheduler refuses a running one (409: terminate it first)."""
    instance_id = given["instance_id"]
    async with _refusals(instance_id, "purged", "only a finished instance can be purged; terminate it first"):
        result = await shared_client().purge_orchestration(instance_id)
    if result.deleted_instance_count == 0:
        raise _no_instance(instance_id)
    return json_response({"id": instance_id, "instancesDeleted": result.deleted_instance_count})


REWIND = _action(
    "rewind",
    "rewind",
    "Rewind a Failed instance: failed work runs again, completed work is kept.",
    "The instance is not Failed; the message names its status.",
)


@REWIND(bp)
async def rewind_instance(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Run a Failed instance again from its failure: failed work is retried, completed work is kept."""
    instance_id = given["instance_id"]
    async with _refusals(instance_id, "rewound", "only a Failed instance can be rewound"):
        await shared_client().rewind_orchestration(instance_id, reason=given["body"])
    return _accepted(instance_id, "rewind")


RESTART = Route(
    "POST",
    "instances/{instance_id}/restart",
    "Run a finished instance again with its original input.",
    (
        INSTANCE_ID,
        Param(
            "restartWithNewInstanceId",
            "query",
            FLAG,
            "true (the default) runs it under a new id, keeping the old instance; false replaces it under its id.",
            default=True,
        ),
        TIMEOUT,
    ),
    answers=(
        *answers.STARTED,
        answers.BAD_INPUT,
        NO_INSTANCE,
        Answer(409, "The instance has not finished; the message names its status.", answers.Error),
    ),
    subject="instance_id",
    shared=answers.SCHEDULER_ONLY,
)


@RESTART(bp)
async def restart_instance(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Run a finished instance again with its original input, answered as a start is.

    ``restartWithNewInstanceId`` (default true, as in Durable Functions) starts it under a new id and keeps
    the old instance; ``false`` replaces the old instance under the same id. ``timeout`` waits as a start does.
    """
    instance_id = given["instance_id"]
    new_id = given["restartWithNewInstanceId"]
    async with _refusals(instance_id, "restarted", "only a finished instance can be restarted"):
        restarted = await shared_client().restart_orchestration(instance_id, restart_with_new_instance_id=new_id)
    annotate({ATTR_INSTANCE_ID: restarted})
    logger.info("Restarted instance %s as %s", instance_id, restarted)
    return await completion_or_check_status(req, restarted, given["timeout"])


@asynccontextmanager
async def _refusals(instance_id: str, done: str, rule: str) -> AsyncIterator[None]:
    """Turn the scheduler's refusal of an action into 404 (no such instance) or 409 saying why.

    On a refusal the instance's status is read to name it; nothing has changed, so the read cannot race it.
    """
    try:
        yield
    except grpc.aio.AioRpcError as error:
        if error.code() is grpc.StatusCode.NOT_FOUND:
            raise _no_instance(instance_id) from None
        if error.code() is not grpc.StatusCode.FAILED_PRECONDITION:
            raise
        state = await shared_client().get_orchestration_state(instance_id, fetch_payloads=False)
        status = "gone" if state is None else status_name(state.runtime_status)
        raise RefusedRequest(
            "instance_id", f"instance '{instance_id}' is {status} and cannot be {done}: {rule}", status=409
        ) from None
