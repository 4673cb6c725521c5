"""Parse and validate what the HTTP triggers receive.

Every rejection is a :class:`~durable_app.http.status.RefusedRequest` naming the field at fault, which the
triggers turn into a 400 (or 413) JSON answer. Validation happens before anything reaches the scheduler, so bad
input never creates, changes or corrupts durable state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import azure.functions as func

from durable_app.values import RefusedRequest, identifier, json_words

MAX_BODY_BYTES = 1024 * 1024
"""Request bodies above this size answer 413."""

MAX_BATCH_SIGNALS = 1000
"""The most signals one ``POST /batch/signals`` may carry; larger sets go in several requests."""

MAX_BATCH_STARTS = 500
"""The most orchestrations one ``POST /batch/orchestrators/{name}`` may start."""

MAX_BATCH_WORK_ITEMS = 50_000
"""The most fan-out work items one batch may start in all, so one request cannot queue unbounded work."""


def json_body(req: func.HttpRequest) -> Any:
    """The decoded JSON body, or ``None`` when the body is empty.

    The Functions host forwards a body only with a ``Content-Length``: a chunked one reaches the function
    empty. Rather than act as if none was sent (a fan-out of the default count, say), that is a 400.
    """
    raw = req.get_body() or b""
    if len(raw) > MAX_BODY_BYTES:
        raise RefusedRequest("body", f"request body is larger than {MAX_BODY_BYTES} bytes", status=413)
    if not raw.strip():
        if "chunked" in req.headers.get("transfer-encoding", "").lower():
            raise RefusedRequest(
                "body",
                "the body was sent chunked (Transfer-Encoding: chunked), which Azure Functions does not pass to "
                "the function; send it with a Content-Length header",
            )
        return None
    try:
        return _DECODER.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))  # as json.loads reads bytes
    except ValueError as error:  # also bad UTF-8 and integers longer than Python's digit limit
        raise RefusedRequest("body", f"body is not valid JSON: {error}") from None
    except RecursionError:  # arrays or objects nested deeper than Python's reader goes
        raise RefusedRequest("body", "body is nested too deeply to be read as JSON") from None


def _not_json(constant: str) -> Any:
    """Python's reader takes ``NaN`` and ``Infinity``; JSON has no such numbers."""
    raise ValueError(f"{constant} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_not_json)
"""Built once: ``json.loads`` with any option builds a decoder per call, half the cost of a small body."""


CONTINUATION_HEADER = "x-ms-continuation-token"
"""Durable Functions' paging header: in the answer of a partial page, and sent back to read the next one."""


def batch_instance_ids(value: Any, count: int) -> list[str | None]:
    if value is None:
        return [None] * count
    if not isinstance(value, list) or len(value) != count:
        raise RefusedRequest("instance_ids", f"instance_ids must be an array of {count} ids (null for a generated one)")
    seen: dict[str, int] = {}
    ids = []
    for index, entry in enumerate(value):
        field = f"instance_ids[{index}]"
        instance_id = None if entry is None else identifier(entry, field)
        if instance_id is not None and instance_id in seen:
            raise RefusedRequest(field, f"{field} repeats instance_ids[{seen[instance_id]}]")
        if instance_id is not None:
            seen[instance_id] = index
        ids.append(instance_id)
    return ids


def batch_list(body: Any, field: str, maximum: int, optional: tuple[str, ...]) -> list[Any]:
    if not isinstance(body, dict):
        raise RefusedRequest("body", f'body must be an object {{"{field}": [...]}}, got {json_words(body)}')
    unknown = sorted(set(body) - {field, *optional})
    if unknown:
        raise RefusedRequest(unknown[0], f'unknown field "{unknown[0]}"; expected "{field}"')
    entries = body.get(field)
    if not isinstance(entries, list):
        raise RefusedRequest(field, f"{field} must be a JSON array, got {json_words(entries)}")
    if len(entries) > maximum:
        raise RefusedRequest(field, f"{field} has {len(entries)} entries; the maximum per request is {maximum}")
    return entries


@contextmanager
def within(prefix: str) -> Iterator[None]:
    """Name a refusal inside a batch entry by its place: ``amount`` becomes ``signals[3].amount``, and a
    refusal of the whole entry (``body``) names the entry itself."""
    try:
        yield
    except RefusedRequest as error:
        field = prefix if error.field in (None, "body") else f"{prefix}.{error.field}"
        raise RefusedRequest(field, f"{prefix}: {error.message}", error.status) from None
