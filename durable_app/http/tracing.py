"""The span every HTTP trigger runs in: the request of the trace it starts."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

import azure.functions as func
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from durable_app.telemetry import TRACER_NAME
from durable_app.telemetry.attributes import tracing_installed

_tracer = trace.get_tracer(TRACER_NAME)

KEY_PARAMETER = "code"
"""The query parameter that carries a function key, in any case: its value never reaches a log or a span."""

REDACTED = "***"

Trigger = Callable[[func.HttpRequest], Awaitable[func.HttpResponse]]


def traced_request(trigger: Trigger) -> Trigger:
    """Run an HTTP trigger in a span named after it: the request of the trace it starts.

    In Azure, with ``PYTHON_ENABLE_OPENTELEMETRY=true``, the Python worker makes the host's request span
    current first; this span is then its child (INTERNAL) so the request is counted once, by the host.
    Where no request span is current (the local host) this one is the request (SERVER). The URL's query is
    left out: it may hold a function key. Without a tracer provider the trigger runs bare: the span would
    record nothing.
    """

    @functools.wraps(trigger)
    async def traced(req: func.HttpRequest) -> func.HttpResponse:
        if not tracing_installed():
            return await trigger(req)
        under_host = trace.get_current_span().get_span_context().is_valid
        attributes = {"http.request.method": req.method, "url.path": _path_of(req.url)}
        kind = SpanKind.INTERNAL if under_host else SpanKind.SERVER
        with _tracer.start_as_current_span(trigger.__name__, kind=kind, attributes=attributes) as span:
            response = await trigger(req)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(Status(StatusCode.ERROR, f"HTTP {response.status_code}"))
            return response

    return traced


def _path_of(url: str) -> str:
    return urlsplit(url).path


def redacted_url(url: str) -> str:
    """``url`` fit for a log line: the value of every ``code`` parameter (the function key) replaced by ``***``.

    The rest of the query stays, since it tells what was asked; the Functions host reads the key from ``code``
    in any case, so every spelling is redacted.
    """
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (name, REDACTED if name.lower() == KEY_PARAMETER else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return parts._replace(query=urlencode(query, safe="*,:/")).geturl()
