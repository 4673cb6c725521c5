"""The status of every answer other than success: a refused request's, and a failed scheduler call's.

Both the app's routes and the local dashboard answer through these two, so a refusal carries the same
``status``/``field``/``message`` everywhere and a scheduler failure maps to the same HTTP status everywhere.
"""

from __future__ import annotations

import grpc

HTTP_STATUS_BY_GRPC: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
"""The scheduler's refusals and outages as HTTP says them; any other code is the scheduler's fault (502)."""

SCHEDULER_FAULT = 502


def http_status(code: grpc.StatusCode | None) -> int:
    """The HTTP status for a scheduler call that ended with ``code`` (``None``: it failed without one)."""
    return HTTP_STATUS_BY_GRPC.get(code, SCHEDULER_FAULT) if code is not None else SCHEDULER_FAULT
