"""The HTTP answers, in the shapes Durable Functions users already know.

Starting an orchestration answers 202 with a ``Location`` header and the management URLs
(``statusQueryGetUri`` and friends); status answers 202 while running and 200 once done. When the caller
sent a function key, every management URL and ``Location`` carry it as ``code=``, so a client can follow
them where keys are enforced; without one, no URL ever carries a key.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import azure.functions as func
from durabletask.client import OrchestrationState, OrchestrationStatus

from durable_app.http.host_config import route_prefix
from durable_app.scheduler import TERMINAL, VersionedState, status_name
from durable_app.values import utc_iso

RETRY_AFTER_SECONDS = 1


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        _ENCODER.encode(body),
        status_code=status,
        headers=headers,
        mimetype="application/json",
    )


def error_response(status: int, field: str | None, message: str) -> func.HttpResponse:
    """The one error shape: ``{"error": <message>, "field": <field or null>}``."""
    return json_response({"error": message, "field": field}, status=status)


def api_base_url(req: func.HttpRequest) -> str:
    """``scheme://host[:port]/<routePrefix>`` of the request, so links work behind any host name."""
    parts = urlsplit(req.url)
    prefix = route_prefix()
    return f"{parts.scheme}://{parts.netloc}" + (f"/{prefix}" if prefix else "")


REASON_PLACEHOLDER = "{text}"
"""Where a caller puts the reason in the terminate/suspend/resume URLs, as Durable Functions does."""


FUNCTION_KEY_HEADER = "x-functions-key"
FUNCTION_KEY_PARAMETER = "code"


def function_key(req: func.HttpRequest) -> str | None:
    """The function key the caller authenticated with (header first, as the Functions host reads it), if any."""
    return req.headers.get(FUNCTION_KEY_HEADER) or req.params.get(FUNCTION_KEY_PARAMETER) or None


_REASON_QUERY = f"reason={REASON_PLACEHOLDER}"

MANAGEMENT_URLS: dict[str, tuple[str, str]] = {
    "statusQueryGetUri": ("", ""),
    "sendEventPostUri": ("/raiseEvent/{eventName}", ""),
    "terminatePostUri": ("/terminate", _REASON_QUERY),
    "suspendPostUri": ("/suspend", _REASON_QUERY),
    "resumePostUri": ("/resume", _REASON_QUERY),
    "rewindPostUri": ("/rewind", _REASON_QUERY),
    "restartPostUri": ("/restart", ""),
    "purgeHistoryDeleteUri": ("", ""),
}
"""The check-status payload's URLs in Durable Functions' names, each as the instance URL's suffix and query; the
payload and its OpenAPI schema are both built from this one table."""


def management_urls(req: func.HttpRequest, instance_id: str) -> dict[str, str]:
    """The Durable Functions ``HttpManagementPayload`` for ``instance_id``, keyed as the request was."""
    instance = f"{api_base_url(req)}/instances/{quote(instance_id, safe='')}"
    key = function_key(req)
    urls = {name: _with_key(f"{instance}{suffix}", query, key) for name, (suffix, query) in MANAGEMENT_URLS.items()}
    return {"id": instance_id, **urls}


def _with_key(url: str, query: str, key: str | None) -> str:
    """``url`` with its query (the reason placeholder stays unescaped, as callers fill it in) and the key."""
    parts = [query] if query else []
    if key:
        parts.append(urlencode({FUNCTION_KEY_PARAMETER: key}))
    return f"{url}?{'&'.join(parts)}" if parts else url


def started_response(req: func.HttpRequest, instance_id: str) -> func.HttpResponse:
    """202 Accepted, pointing at the new instance's status URL."""
    urls = management_urls(req, instance_id)
    headers = {"Location": urls["statusQueryGetUri"], "Retry-After": str(RETRY_AFTER_SECONDS)}
    return json_response(urls, status=202, headers=headers)


def status_body(state: VersionedState, *, show_input: bool = True) -> dict[str, Any]:
    """An instance's status in the Durable Functions shape, with the version it was started under (``null``:
    none); ``input`` is null unless ``show_input``."""
    failure = state.failure_details
    return {
        "name": state.name,
        "instanceId": state.instance_id,
        "runtimeStatus": status_name(state.runtime_status),
        "input": _decoded(state.serialized_input) if show_input else None,
        "output": _decoded(state.serialized_output),
        "customStatus": _decoded(state.serialized_custom_status),
        "createdTime": utc_iso(state.created_at),
        "lastUpdatedTime": utc_iso(state.last_updated_at),
        "version": state.version,
        "failureDetails": None
        if failure is None
        else {"errorType": failure.error_type, "errorMessage": failure.message, "stackTrace": failure.stack_trace},
    }


def status_response(
    req: func.HttpRequest, body: dict[str, Any], state: OrchestrationState, *, failed_as_500: bool = False
) -> func.HttpResponse:
    """200 once the instance is done (500 for a failed one when ``failed_as_500``, Durable Functions'
    ``returnInternalServerErrorOnFailure``); 202 with ``Location`` and ``Retry-After`` while it is not."""
    if state.runtime_status is OrchestrationStatus.FAILED and failed_as_500:
        return json_response(body, status=500)
    if state.runtime_status in TERMINAL:
        return json_response(body)
    headers = {
        "Location": management_urls(req, state.instance_id)["statusQueryGetUri"],
        "Retry-After": str(RETRY_AFTER_SECONDS),
    }
    return json_response(body, status=202, headers=headers)


def _decoded(serialized: str | None) -> Any:
    """Payloads are JSON text on the wire; answer with the value, not a string of JSON."""
    if serialized is None:
        return None
    try:
        return json.loads(serialized)
    except json.JSONDecodeError:
        return serialized


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(default=_json_default)
"""What ``json.dumps(body, default=_json_default)`` builds on every call, built once."""
