"""The instance management routes (``/api/instances/...``), in Durable Functions' shapes.

A :class:`azure.functions.Blueprint` that ``function_app.py`` registers: status, terminate, suspend, resume,
raise event and purge, each answering with the codes Durable Functions' built-in HTTP API uses.
"""

from __future__ import annotations

import azure.functions as func
from durabletask.client import OrchestrationState, OrchestrationStatus

from durable_app import http_requests as inputs
from durable_app.http_errors import ApiError, api_errors
from durable_app.http_responses import TERMINAL, history_body, json_response, status_body, status_response
from durable_app.scheduler_client import shared_client
from durable_app.settings import app_settings
from durable_app.telemetry import ATTR_INSTANCE_ID, annotate, traced_request

bp = func.Blueprint(http_auth_level=func.AuthLevel.FUNCTION)


async def _existing_state(instance_id: str, *, fetch_payloads: bool = False) -> OrchestrationState:
    state = await shared_client(app_settings()).get_orchestration_state(instance_id, fetch_payloads=fetch_payloads)
    if state is None:
        raise ApiError(404, f"no instance with id '{instance_id}'", "instance_id")
    return state


def _instance_id(req: func.HttpRequest) -> str:
    instance_id = inputs.identifier(req.route_params.get("instance_id"), "instance_id")
    annotate({ATTR_INSTANCE_ID: instance_id})
    return instance_id


@bp.route(route="instances/{instance_id}", methods=["GET"])
@traced_request
@api_errors
async def get_instance_status(req: func.HttpRequest) -> func.HttpResponse:
    """Status, input, output and custom status; ``?history=true`` adds the history events."""
    instance_id = _instance_id(req)
    with_history = inputs.flag(req.params, "history")
    state = await _existing_state(instance_id, fetch_payloads=True)
    body = status_body(state)
    if with_history:
        body["historyEvents"] = history_body(await shared_client(app_settings()).get_orchestration_history(instance_id))
    return status_response(req, body, state)


@bp.route(route="instances/{instance_id}/terminate", methods=["POST"])
@traced_request
@api_errors
async def terminate_instance(req: func.HttpRequest) -> func.HttpResponse:
    instance_id = _instance_id(req)
    reason = inputs.reason(req.params, inputs.json_body(req))
    state = await _existing_state(instance_id)
    if state.runtime_status in TERMINAL:
        raise ApiError(409, f"instance '{instance_id}' has already finished", "instance_id")
    await shared_client(app_settings()).terminate_orchestration(instance_id, output=reason)
    return json_response({"id": instance_id, "action": "terminate"}, status=202)


@bp.route(route="instances/{instance_id}/suspend", methods=["POST"])
@traced_request
@api_errors
async def suspend_instance(req: func.HttpRequest) -> func.HttpResponse:
    instance_id = _instance_id(req)
    reason = inputs.reason(req.params, inputs.json_body(req))
    state = await _existing_state(instance_id)
    if state.runtime_status in TERMINAL:
        raise ApiError(409, f"instance '{instance_id}' has already finished", "instance_id")
    await shared_client(app_settings()).suspend_orchestration(instance_id, reason=reason)
    return json_response({"id": instance_id, "action": "suspend"}, status=202)


@bp.route(route="instances/{instance_id}/resume", methods=["POST"])
@traced_request
@api_errors
async def resume_instance(req: func.HttpRequest) -> func.HttpResponse:
    instance_id = _instance_id(req)
    reason = inputs.reason(req.params, inputs.json_body(req))
    state = await _existing_state(instance_id)
    if state.runtime_status is not OrchestrationStatus.SUSPENDED:
        raise ApiError(409, f"instance '{instance_id}' is not suspended", "instance_id")
    await shared_client(app_settings()).resume_orchestration(instance_id, reason=reason)
    return json_response({"id": instance_id, "action": "resume"}, status=202)


@bp.route(route="instances/{instance_id}/raiseEvent/{event_name}", methods=["POST"])
@traced_request
@api_errors
async def raise_event(req: func.HttpRequest) -> func.HttpResponse:
    """Deliver an external event (any JSON body, or none) to a running instance."""
    instance_id = _instance_id(req)
    event_name = inputs.identifier(req.route_params.get("event_name"), "event_name")
    data = inputs.json_body(req)
    state = await _existing_state(instance_id)
    if state.runtime_status in TERMINAL:
        raise ApiError(409, f"instance '{instance_id}' has already finished", "instance_id")
    await shared_client(app_settings()).raise_orchestration_event(instance_id, event_name, data=data)
    return json_response({"id": instance_id, "event": event_name}, status=202)


@bp.route(route="instances/{instance_id}", methods=["DELETE"])
@traced_request
@api_errors
async def purge_instance(req: func.HttpRequest) -> func.HttpResponse:
    """Delete a finished instance's history; running instances must be terminated first."""
    instance_id = _instance_id(req)
    state = await _existing_state(instance_id)
    if state.runtime_status not in TERMINAL:
        raise ApiError(409, f"instance '{instance_id}' is still running; terminate it first", "instance_id")
    result = await shared_client(app_settings()).purge_orchestration(instance_id)
    return json_response({"id": instance_id, "instancesDeleted": result.deleted_instance_count})
