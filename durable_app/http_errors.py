"""Turn failures inside an HTTP trigger into clear JSON answers instead of 500s."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

import azure.functions as func
import grpc

from durable_app.http_requests import BadRequest
from durable_app.http_responses import error_response

logger = logging.getLogger(__name__)

Handler = Callable[[func.HttpRequest], Awaitable[func.HttpResponse]]

_GRPC_STATUS = {
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


class ApiError(Exception):
    """An answer other than success that a handler decides on (404, 409...)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def api_errors(handler: Handler) -> Handler:
    """Map bad input to 400/413, known conditions to their status, scheduler faults to 5xx with a body."""

    @functools.wraps(handler)
    async def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        try:
            return await handler(req)
        except BadRequest as error:
            return error_response(error.status, error.field, error.message)
        except ApiError as error:
            return error_response(error.status, error.field, error.message)
        except grpc.aio.AioRpcError as error:
            status = _GRPC_STATUS.get(error.code(), 502)
            level = logging.WARNING if status >= 500 else logging.INFO
            logger.log(level, "Scheduler call for %s %s failed: %s", req.method, req.url, error.details())
            return error_response(status, None, f"scheduler: {error.code().name}: {error.details()}")

    return wrapper
