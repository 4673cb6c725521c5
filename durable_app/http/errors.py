"""Turn failures inside an HTTP trigger into clear JSON answers instead of 500s."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

import azure.functions as func
import grpc

from durable_app.http.batch import BatchOutcome
from durable_app.http.responses import error_response, json_response
from durable_app.http.status import SCHEDULER_FAULT, http_status
from durable_app.http.tracing import redacted_url
from durable_app.values import RefusedRequest

logger = logging.getLogger(__name__)

Handler = Callable[[func.HttpRequest], Awaitable[func.HttpResponse]]


def api_errors(*, subject: str) -> Callable[[Handler], Handler]:
    """Map bad input to 400/413, known conditions to their status, scheduler faults to 5xx with a body.

    ``subject`` is what the route declares a scheduler refusal to be about: the path parameter naming the
    instance or entity it acts on (``instance_id``, ``key``), or ``body``. A request that leaves an optional
    subject out (a start without a chosen id) has its refusals blamed on the body.
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(req: func.HttpRequest) -> func.HttpResponse:
            try:
                return await handler(req)
            except RefusedRequest as error:
                return error_response(error.status, error.field, error.message)
            except grpc.aio.AioRpcError as error:
                status = http_status(error.code())
                level = logging.WARNING if status >= 500 else logging.INFO
                url = redacted_url(req.url)
                logger.log(level, "Scheduler call for %s %s failed: %s", req.method, url, error.details())
                field = _refused_field(req, subject) if status < 500 else None
                return error_response(status, field, _scheduler_message(error, req))

        return wrapper

    return decorate


def _refused_field(req: func.HttpRequest, subject: str) -> str:
    return subject if subject == "body" or req.route_params.get(subject) else "body"


def _scheduler_message(error: grpc.aio.AioRpcError, req: func.HttpRequest) -> str:
    """The scheduler's answer in the API's words; a taken instance id is the one refusal callers meet daily."""
    instance_id = req.route_params.get("instance_id")
    if error.code() is grpc.StatusCode.ALREADY_EXISTS and instance_id:
        return (
            f'instance_id "{instance_id}" is taken by an orchestration that has not finished; '
            "pick another id or start again once it has finished"
        )
    return f"scheduler: {error.code().name}: {error.details()}"


BATCH_ANSWERED_CODES = frozenset(
    {
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    }
)
"""Failures a batch answers with their own status: load, reachability and a chosen instance id still in use.
A batch's route names no instance or entity, so any other failure of an entry is the scheduler's fault (502)."""


def batch_failure(outcome: BatchOutcome, entry_field: str, extra: dict[str, object]) -> func.HttpResponse:
    """The error shape plus where every entry ended (``queued``/``failed``/``uncertain``), so a client can
    resend exactly what is missing; ``field`` names the entry the scheduler refused (``entry_field[i]``)."""
    error = outcome.error
    code = error.code() if isinstance(error, grpc.aio.AioRpcError) else None
    status = http_status(code) if code in BATCH_ANSWERED_CODES else SCHEDULER_FAULT
    index = outcome.error_index
    field = f"{entry_field}[{index}]" if status == 409 else None
    if isinstance(error, grpc.aio.AioRpcError):
        message = f"entry {index}: scheduler: {error.code().name}: {error.details()}"
    else:
        message = f"entry {index}: {type(error).__name__}"
    logger.warning("Batch stopped at entry %s: %s", index, message)
    body = {"error": message, "field": field, **outcome.lists(), **extra}
    return json_response(body, status=status)
