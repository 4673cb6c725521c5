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

import azure.functions as func
import grpc
from durabletask.client import OrchestrationState, OrchestrationStatus

from durable_app.http import instance_queries as queries
from durable_app.http import requests as inputs
from durable_app.http.completion import completion_or_check_status, completion_timeout
from durable_app.http.errors import api_errors
from durable_app.http.history import history_events
from durable_app.http.paging import instance_page
from durable_app.http.responses import json_response, status_body, status_response
from durable_app.http.tracing import traced_request
from durable_app.replay import instance_waiting
from durable_app.scheduler import TERMINAL, instance_state, shared_client, status_name
from durable_app.telemetry import ATTR_INSTANCE_ID, annotate
from durable_app.values import RefusedRequest, existing_instance_id, identifier

logger = logging.getLogger(__name__)

bp = func.Blueprint(http_auth_level=func.AuthLevel.FUNCTION)


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


def _instance_id(req: func.HttpRequest) -> str:
    instance_id = existing_instance_id(req.route_params.get("instance_id"))
    annotate({ATTR_INSTANCE_ID: instance_id})
    return instance_id


def _action_request(req: func.HttpRequest) -> tuple[str, str | None]:
    """The instance id and optional reason of terminate, suspend, resume and rewind."""
    return _instance_id(req), inputs.reason(req.params, inputs.json_body(req))


def _accepted(instance_id: str, action: str) -> func.HttpResponse:
    return json_response({"id": instance_id, "action": action}, status=202)


@bp.route(route="instances", methods=["GET"])
@traced_request
@api_errors(subject="body")
async def list_instances(req: func.HttpRequest) -> func.HttpResponse:
    """One page of instances; a partial page names the next in its ``x-ms-continuation-token`` header."""
    listing = queries.list_request(req.params, req.headers)
    states, next_token = await instance_page(shared_client(), listing.query, listing.continuation_token)
    body = [status_body(state, show_input=listing.show_input) for state in states]
    headers = {inputs.CONTINUATION_HEADER: next_token} if next_token else None
    return json_response(body, headers=headers)


@bp.route(route="instances", methods=["DELETE"])
@traced_request
@api_errors(subject="body")
async def purge_instances(req: func.HttpRequest) -> func.HttpResponse:
    """Purge every finished instance the filters match: 200 with the count, 404 when none matched."""
    filters = queries.purge_filter(req.params)
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


@bp.route(route="instances/{instance_id}", methods=["GET"])
@traced_request
@api_errors(subject="instance_id")
async def get_instance_status(req: func.HttpRequest) -> func.HttpResponse:
    """Status, output and custom status, with Durable Functions' ``showInput`` (default true),
    ``showHistory``, ``showHistoryOutput`` and ``returnInternalServerErrorOnFailure``.

    ``history=true``, this API's older spelling, still adds the history with its outputs.
    """
    instance_id = _instance_id(req)
    params = req.params
    old_history = inputs.flag(params, "history")
    with_history = inputs.flag(params, "showHistory") or old_history
    with_outputs = inputs.flag(params, "showHistoryOutput") or old_history
    show_input = params.get("showInput") is None or inputs.flag(params, "showInput")
    failed_as_500 = inputs.flag(params, "returnInternalServerErrorOnFailure")
    state = await instance_state(shared_client(), instance_id)
    if state is None:
        raise _no_instance(instance_id)
    body = status_body(state, show_input=show_input)
    if with_history:
        events = await shared_client().get_orchestration_history(instance_id)
        body["historyEvents"] = history_events(events, with_outputs=with_outputs, show_input=show_input)
    return status_response(req, body, state, failed_as_500=failed_as_500)


@bp.route(route="instances/{instance_id}/waiting", methods=["GET"])
@traced_request
@api_errors(subject="instance_id")
async def get_instance_waiting(req: func.HttpRequest) -> func.HttpResponse:
    """What the instance waits for (``durable_app.replay.instance_waiting``): work in flight, timers, entity locks,
    the events received and, by replaying its orchestrator in a thread (CPU-bound), the events it awaits."""
    instance_id = _instance_id(req)
    state = await _existing_state(instance_id)
    events = await shared_client().get_orchestration_history(instance_id)
    found = (await asyncio.to_thread(instance_waiting, state.name, instance_id, events)).to_json(datetime.now(UTC))
    return json_response({"instanceId": instance_id, "runtimeStatus": status_name(state.runtime_status), **found})


@bp.route(route="instances/{instance_id}/terminate", methods=["POST"])
@traced_request
@api_errors(subject="instance_id")
async def terminate_instance(req: func.HttpRequest) -> func.HttpResponse:
    """Stop an unfinished instance for good; the reason becomes its output."""
    instance_id, reason = _action_request(req)
    await _refuse_finished(instance_id)
    await shared_client().terminate_orchestration(instance_id, output=reason)
    return _accepted(instance_id, "terminate")


@bp.route(route="instances/{instance_id}/suspend", methods=["POST"])
@traced_request
@api_errors(subject="instance_id")
async def suspend_instance(req: func.HttpRequest) -> func.HttpResponse:
    """Pause an unfinished instance: events still queue, and nothing runs until it is resumed."""
    instance_id, reason = _action_request(req)
    await _refuse_finished(instance_id)
    await shared_client().suspend_orchestration(instance_id, reason=reason)
    return _accepted(instance_id, "suspend")


@bp.route(route="instances/{instance_id}/resume", methods=["POST"])
@traced_request
@api_errors(subject="instance_id")
async def resume_instance(req: func.HttpRequest) -> func.HttpResponse:
    """Let a suspended instance run again, from where it paused."""
    instance_id, reason = _action_request(req)
    await _refuse_finished(instance_id, unless_suspended=True)
    await shared_client().resume_orchestration(instance_id, reason=reason)
    return _accepted(instance_id, "resume")


@bp.route(route="instances/{instance_id}/raiseEvent/{event_name}", methods=["POST"])
@traced_request
@api_errors(subject="instance_id")
async def raise_event(req: func.HttpRequest) -> func.HttpResponse:
    """Deliver an external event (any JSON body, or none) to a running instance."""
    instance_id = _instance_id(req)
    event_name = identifier(req.route_params.get("event_name"), "event_name")
    data = inputs.json_body(req)
    await _refuse_finished(instance_id)
    await shared_client().raise_orchestration_event(instance_id, event_name, data=data)
    return json_response({"id": instance_id, "event": event_name}, status=202)


@bp.route(route="instances/{instance_id}", methods=["DELETE"])
@traced_request
@api_errors(subject="instance_id")
async def purge_instance(req: func.HttpRequest) -> func.HttpResponse:
    """Delete a finished instance's history; the scheduler refuses a running one (409: terminate it first)."""
    instance_id = _instance_id(req)
    async with _refusals(instance_id, "purged", "only a finished instance can be purged; terminate it first"):
        result = await shared_client().purge_orchestration(instance_id)
    if result.deleted_instance_count == 0:
        raise _no_instance(instance_id)
    return json_response({"id": instance_id, "instancesDeleted": result.deleted_instance_count})


@bp.route(route="instances/{instance_id}/rewind", methods=["POST"])
@traced_request
@api_errors(subject="instance_id")
async def rewind_instance(req: func.HttpRequest) -> func.HttpResponse:
    """Run a Failed instance again from its failure: failed work is retried, completed work is kept."""
    instance_id, reason = _action_request(req)
    async with _refusals(instance_id, "rewound", "only a Failed instance can be rewound"):
        await shared_client().rewind_orchestration(instance_id, reason=reason)
    return _accepted(instance_id, "rewind")


@bp.route(route="instances/{instance_id}/restart", methods=["POST"])
@traced_request
@api_errors(subject="instance_id")
async def restart_instance(req: func.HttpRequest) -> func.HttpResponse:
    """Run a finished instance again with its original input, answered as a start is.

    ``restartWithNewInstanceId`` (default true, as in Durable Functions) starts it under a new id and keeps
    the old instance; ``false`` replaces the old instance under the same id. ``timeout`` waits as a start does.
    """
    instance_id = _instance_id(req)
    new_id = req.params.get("restartWithNewInstanceId") is None or inputs.flag(req.params, "restartWithNewInstanceId")
    completion_timeout(req.params)
    async with _refusals(instance_id, "restarted", "only a finished instance can be restarted"):
        restarted = await shared_client().restart_orchestration(instance_id, restart_with_new_instance_id=new_id)
    annotate({ATTR_INSTANCE_ID: restarted})
    logger.info("Restarted instance %s as %s", instance_id, restarted)
    return await completion_or_check_status(req, restarted)


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
