"""Parse and validate what the HTTP triggers receive.

Every rejection is a :class:`BadRequest` naming the field at fault, which the triggers turn into a 400 (or
413) JSON answer. Validation happens before anything reaches the scheduler, so bad input never creates,
changes or corrupts durable state.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import azure.functions as func

from durable_app.http_responses import REASON_PLACEHOLDER

MAX_BODY_BYTES = 1024 * 1024
"""Request bodies above this size answer 413."""

MAX_FAN_OUT_ITEMS = 5000
"""The largest fan-out one request may start; larger jobs should be split into several orchestrations."""

DEFAULT_FAN_OUT_COUNT = 10
"""Items 1..10 when a fan-out request names neither items nor a count, as the seed's client does."""

SIGNAL_OPERATIONS = ("add", "subtract", "reset")
"""Counter operations a client may signal; ``get`` is a read (``GET /counters/{key}``)."""

MAX_BATCH_SIGNALS = 1000
"""The most signals one ``POST /batch/signals`` may carry; larger sets go in several requests."""

MAX_BATCH_STARTS = 500
"""The most orchestrations one ``POST /batch/orchestrators/{name}`` may start."""

MAX_BATCH_WORK_ITEMS = 10 * MAX_FAN_OUT_ITEMS
"""The most fan-out work items one batch may start in all, so one request cannot queue unbounded work."""

BATCH_ORCHESTRATORS = ("fan_out_fan_in_orchestrator", "counter_workflow")
"""Orchestrations ``POST /batch/orchestrators/{name}`` starts."""

MAX_NUMBER_MAGNITUDE = 2**53
"""Items and amounts stay within JSON's exactly representable integers, so sums of squares stay finite."""

_INTEGER_PATTERN = re.compile(r"[+-]?[0-9]{1,16}")
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}$"
"""Instance ids, entity keys and event names: URL-safe characters DTS accepts everywhere."""

_ID_REGEX = re.compile(ID_PATTERN)
_ID_RULE = "1-100 characters: letters, digits, '-', '_', '.', ':' (starting with a letter or digit)"


class BadRequest(Exception):
    """Input the API refuses; ``field`` names the part of the request at fault."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


def json_body(req: func.HttpRequest) -> Any:
    """The decoded JSON body, or ``None`` when the body is empty.

    The Functions host forwards a body only with a ``Content-Length``: a chunked one reaches the function
    empty. Rather than act as if none was sent (a fan-out of the default count, say), that is a 400.
    """
    raw = req.get_body() or b""
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest("body", f"request body is larger than {MAX_BODY_BYTES} bytes", status=413)
    if not raw.strip():
        if "chunked" in req.headers.get("transfer-encoding", "").lower():
            raise BadRequest(
                "body",
                "the body was sent chunked (Transfer-Encoding: chunked), which Azure Functions does not pass to "
                "the function; send it with a Content-Length header",
            )
        return None
    try:
        return json.loads(raw)
    except ValueError as error:  # also bad UTF-8 and integers longer than Python's digit limit
        raise BadRequest("body", f"body is not valid JSON: {error}") from None


def identifier(value: Any, field: str) -> str:
    """An instance id, entity key or event name: URL-safe characters DTS accepts everywhere."""
    if not isinstance(value, str) or not _ID_REGEX.fullmatch(value):
        raise BadRequest(field, f"{field} must be {_ID_RULE}, got {json_words(value)}")
    return value


def json_words(value: Any) -> str:
    """``value`` as a JSON reader knows it: ``true``, ``null``, ``the string "5"``, ``an array``...

    Refusals quote what the client sent in JSON's spelling, never Python's (``True``, ``None``, ``'5'``).
    """
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        return f"the string {json.dumps(shown)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, float) and not math.isfinite(value):
        return "a number out of range"
    return json.dumps(value)


def optional_identifier(value: Any, field: str) -> str | None:
    return None if value in (None, "") else identifier(value, field)


def fan_out_items(body: Any, params: Any) -> list[int | float]:
    """The work items: a JSON array, ``{"items": [...]}``, ``{"count": n}`` or ``?count=n`` (items 1..n)."""
    if body is None:
        return _count_items(_query_integer(params.get("count"), "count"), "count")
    _not_in_both(params, "count")
    if isinstance(body, list):
        return _items(body, "items")
    if not isinstance(body, dict):
        raise BadRequest("body", 'body must be a JSON array of numbers or an object with "items" or "count"')
    unknown = sorted(set(body) - {"items", "count"})
    if unknown:
        raise BadRequest(unknown[0], f'unknown field "{unknown[0]}"; expected "items" or "count"')
    if "items" in body and "count" in body:
        raise BadRequest("items", 'give either "items" or "count", not both')
    if "items" in body:
        return _items(body["items"], "items")
    return _count_items(_json_integer(body.get("count"), "count"), "count")


def _items(value: Any, field: str) -> list[int | float]:
    if not isinstance(value, list):
        raise BadRequest(field, f"{field} must be a JSON array of numbers")
    if len(value) > MAX_FAN_OUT_ITEMS:
        raise BadRequest(field, f"{field} has {len(value)} entries; the maximum is {MAX_FAN_OUT_ITEMS}")
    for index, item in enumerate(value):
        if not _is_bounded_number(item):
            raise BadRequest(
                f"{field}[{index}]",
                f"{field}[{index}] must be a number between -2^53 and 2^53, got {json_words(item)}",
            )
    return value


def _is_bounded_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return abs(value) <= MAX_NUMBER_MAGNITUDE


def _count_items(count: int | None, field: str) -> list[int | float]:
    count = DEFAULT_FAN_OUT_COUNT if count is None else count
    if not 0 <= count <= MAX_FAN_OUT_ITEMS:
        raise BadRequest(field, f"{field} must be between 0 and {MAX_FAN_OUT_ITEMS}, got {count}")
    return list(range(1, count + 1))


def entity_key_input(body: Any, params: Any) -> str:
    """``counter_workflow``'s input: ``{"entity_key": ...}``, a JSON string, or ``?entity_key=``."""
    if body is not None:
        _not_in_both(params, "entity_key")
    if isinstance(body, dict):
        unknown = sorted(set(body) - {"entity_key"})
        if unknown:
            raise BadRequest(unknown[0], f'unknown field "{unknown[0]}"; expected "entity_key"')
        value = body.get("entity_key")
    elif isinstance(body, str) or body is None:
        value = body if body is not None else params.get("entity_key")
    else:
        raise BadRequest("body", 'body must be {"entity_key": "..."} or a JSON string')
    if value is None:
        raise BadRequest("entity_key", "entity_key is required")
    return identifier(value, "entity_key")


def signal_operation(value: Any) -> str:
    if value not in SIGNAL_OPERATIONS:
        raise BadRequest(
            "operation", f"operation must be one of {', '.join(SIGNAL_OPERATIONS)}, got {json_words(value)}"
        )
    return value


def signal_amount(operation: str, body: Any, params: Any) -> int | None:
    """The amount for ``add``/``subtract``: a JSON integer body, ``{"amount": n}`` or ``?amount=n``."""
    if body is not None:
        _not_in_both(params, "amount")
    if isinstance(body, dict):
        unknown = sorted(set(body) - {"amount"})
        if unknown:
            raise BadRequest(unknown[0], f'unknown field "{unknown[0]}"; expected "amount"')
        value = body.get("amount")
    else:
        value = body
    amount = _json_integer(value, "amount") if body is not None else _query_integer(params.get("amount"), "amount")
    return _amount_for(operation, amount)


def _amount_for(operation: str, amount: int | None) -> int | None:
    """The operation's rule: ``reset`` takes no amount, ``add``/``subtract`` need one within 2^53."""
    if operation == "reset":
        if amount is not None:
            raise BadRequest("amount", "reset takes no amount")
        return None
    if amount is None:
        raise BadRequest("amount", f"{operation} needs an integer amount")
    if abs(amount) > MAX_NUMBER_MAGNITUDE:
        raise BadRequest("amount", "amount must be between -2^53 and 2^53")
    return amount


def flag(params: Any, name: str) -> bool:
    """A boolean query parameter such as ``?history=true``."""
    raw = (params.get(name) or "").strip().lower()
    if raw in ("", "false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    raise BadRequest(name, f"{name} must be true or false, got {json_words(raw)}")


def reason(params: Any, body: Any) -> str | None:
    """An optional human reason for terminate/suspend/resume: ``?reason=`` or ``{"reason": ...}``."""
    query_value = params.get("reason")
    if query_value == REASON_PLACEHOLDER:  # the management URL posted as given: no query reason
        query_value = None
    if body is None:
        value = query_value
    elif isinstance(body, dict):
        if query_value is not None:
            raise BadRequest("reason", "give reason in the body or the query string, not both")
        unknown = sorted(set(body) - {"reason"})
        if unknown:
            raise BadRequest(unknown[0], f'unknown field "{unknown[0]}"; expected "reason"')
        value = body.get("reason")
    else:
        raise BadRequest("body", 'body must be {"reason": "..."} or empty')
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 1000:
        raise BadRequest("reason", "reason must be a string of at most 1000 characters")
    return value


def _not_in_both(params: Any, field: str) -> None:
    """A value given in the body and the query string is ambiguous: refuse it rather than pick one."""
    if params.get(field) is not None:
        raise BadRequest(field, f"give {field} in the body or the query string, not both")


def _json_integer(value: Any, field: str) -> int | None:
    """A JSON integer from the body: ``5``, never ``"5"``, ``true`` or ``5.0`` (strings are not numbers)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(field, f"{field} must be a JSON integer, got {json_words(value)}")
    return value


def _query_integer(value: str | None, field: str) -> int | None:
    """An integer from the query string, where every value is text: ASCII digits with an optional sign."""
    if value is None:
        return None
    if not _INTEGER_PATTERN.fullmatch(value.strip()):
        raise BadRequest(field, f"{field} must be an integer, got {json_words(value)}")
    return int(value)


@dataclass(frozen=True)
class Signal:
    """One validated entry of a signal batch."""

    key: str
    operation: str
    amount: int | None


@dataclass(frozen=True)
class Start:
    """One validated entry of a start batch: the orchestration's input and the caller's id, if any."""

    input: Any
    instance_id: str | None


def signal_batch(body: Any) -> list[Signal]:
    """``{"signals": [{"key", "operation", "amount"}, ...]}``, every entry checked before any is sent."""
    entries = _batch_list(body, "signals", MAX_BATCH_SIGNALS, optional=())
    return [_signal_entry(entry, f"signals[{index}]") for index, entry in enumerate(entries)]


def _signal_entry(entry: Any, field: str) -> Signal:
    if not isinstance(entry, dict):
        raise BadRequest(field, f'{field} must be an object {{"key", "operation", "amount"}}, got {json_words(entry)}')
    unknown = sorted(set(entry) - {"key", "operation", "amount"})
    if unknown:
        raise BadRequest(f"{field}.{unknown[0]}", f'{field}: unknown field "{unknown[0]}"')
    with _within(field):
        key = identifier(entry.get("key"), "key")
        operation = signal_operation(entry.get("operation"))
        amount = _amount_for(operation, _json_integer(entry.get("amount"), "amount"))
    return Signal(key, operation, amount)


def start_batch(name: str, body: Any) -> list[Start]:
    """``{"inputs": [...], "instance_ids": [...]}``: each input as the single start takes its body.

    ``instance_ids`` is optional; when given it has one id (or ``null`` for a generated one) per input.
    """
    entries = _batch_list(body, "inputs", MAX_BATCH_STARTS, optional=("instance_ids",))
    inputs = [_start_input(name, entry, f"inputs[{index}]") for index, entry in enumerate(entries)]
    work_items = sum(len(value) for value in inputs if isinstance(value, list))
    if work_items > MAX_BATCH_WORK_ITEMS:
        raise BadRequest(
            "inputs", f"inputs hold {work_items} work items in all; the maximum per batch is {MAX_BATCH_WORK_ITEMS}"
        )
    ids = _instance_ids(body.get("instance_ids"), len(inputs))
    return [Start(value, instance_id) for value, instance_id in zip(inputs, ids, strict=True)]


def _start_input(name: str, entry: Any, field: str) -> Any:
    try:
        if name == "fan_out_fan_in_orchestrator":
            return fan_out_items(entry, {})
        return entity_key_input(entry, {})
    except BadRequest as error:
        inner = error.field
        if inner == "body" or (isinstance(entry, list) and inner == "items"):
            inner = ""
        elif isinstance(entry, list) and inner.startswith("items["):
            inner = inner.removeprefix("items")
        else:
            inner = f".{inner}"
        raise BadRequest(f"{field}{inner}", f"{field}: {error.message}", error.status) from None


def _instance_ids(value: Any, count: int) -> list[str | None]:
    if value is None:
        return [None] * count
    if not isinstance(value, list) or len(value) != count:
        raise BadRequest("instance_ids", f"instance_ids must be an array of {count} ids (null for a generated one)")
    seen: dict[str, int] = {}
    ids = []
    for index, entry in enumerate(value):
        field = f"instance_ids[{index}]"
        instance_id = None if entry is None else identifier(entry, field)
        if instance_id is not None and instance_id in seen:
            raise BadRequest(field, f"{field} repeats instance_ids[{seen[instance_id]}]")
        if instance_id is not None:
            seen[instance_id] = index
        ids.append(instance_id)
    return ids


def _batch_list(body: Any, field: str, maximum: int, optional: tuple[str, ...]) -> list[Any]:
    if not isinstance(body, dict):
        raise BadRequest("body", f'body must be an object {{"{field}": [...]}}, got {json_words(body)}')
    unknown = sorted(set(body) - {field, *optional})
    if unknown:
        raise BadRequest(unknown[0], f'unknown field "{unknown[0]}"; expected "{field}"')
    entries = body.get(field)
    if not isinstance(entries, list):
        raise BadRequest(field, f"{field} must be a JSON array, got {json_words(entries)}")
    if len(entries) > maximum:
        raise BadRequest(field, f"{field} has {len(entries)} entries; the maximum per request is {maximum}")
    return entries


@contextmanager
def _within(prefix: str) -> Iterator[None]:
    """Name a refusal inside a batch entry by its place: ``amount`` becomes ``signals[3].amount``."""
    try:
        yield
    except BadRequest as error:
        raise BadRequest(f"{prefix}.{error.field}", f"{prefix}: {error.message}", error.status) from None
