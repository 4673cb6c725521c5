"""The kinds of value the routes take in paths, query strings and headers, and the parameters several routes share.

Each :class:`~durable_app.http.declarations.Kind` pairs the one check of its value (``durable_app.values`` and the
query modules) with the schema that describes it, so a route that declares a parameter both enforces and
documents it with these.
"""

from __future__ import annotations

import re

from durable_app.http.declarations import Kind, Param
from durable_app.http.instance_queries import MAX_PREFIX_LENGTH, TIMESTAMP_PATTERN, runtime_statuses, timestamp
from durable_app.http.paging import CONTINUATION_PATTERN
from durable_app.http.requests import CONTINUATION_HEADER
from durable_app.http.responses import REASON_PLACEHOLDER
from durable_app.scheduler import RUNTIME_STATUS
from durable_app.telemetry import ATTR_INSTANCE_ID, annotate
from durable_app.values import (
    BOOLEAN_WORDS,
    EXISTING_ID_PATTERN,
    ID_PATTERN,
    MAX_NUMBER_MAGNITUDE,
    MAX_PAGE_SIZE,
    MAX_REASON_LENGTH,
    MAX_TOKEN_LENGTH,
    RefusedRequest,
    continuation_token,
    existing_instance_id,
    identifier,
    json_words,
    page_size,
    parse_boolean,
    reason,
)

MAX_WAIT_SECONDS = 120.0
"""The longest a request waits for an instance to finish: well under the 230 s after which Azure's front end
drops an HTTP request."""

_INTEGER = re.compile(r"-?[0-9]{1,16}")
_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?")
"""Seconds as plain ASCII digits: ``float`` alone would also take ``1_0``, ``1e3``, `` 5 ``, ``inf`` or other
scripts' digits."""


def _instance_id(raw: str, _: str) -> str:
    instance_id = existing_instance_id(raw)
    annotate({ATTR_INSTANCE_ID: instance_id})
    return instance_id


FLAG_SPELLINGS = tuple(
    dict.fromkeys(spelling for word in BOOLEAN_WORDS for spelling in (word, word.title(), word.upper()))
)
"""``true``/``false`` and their kin in lower, title and upper case (a .NET client sends ``True``)."""


def _flag(raw: str, name: str) -> bool:
    """A query flag; an empty value is false."""
    if raw and raw not in FLAG_SPELLINGS:
        raise RefusedRequest(name, f"{name} must be true or false, got {json_words(raw)}")
    return bool(raw) and parse_boolean(raw.lower())


def _integer(raw: str, name: str) -> int:
    """ASCII digits with an optional minus, as a JSON integer is written: every query value is text."""
    if not _INTEGER.fullmatch(raw):
        raise RefusedRequest(name, f"{name} must be an integer, got {json_words(raw)}")
    return int(raw)


def _seconds(raw: str, name: str) -> float:
    """Seconds (decimals allowed, 0 or more), held to :data:`MAX_WAIT_SECONDS`."""
    if not _SECONDS.fullmatch(raw):
        raise RefusedRequest(name, f"{name} must be a number of seconds, 0 or more, got {json_words(raw)}")
    return min(float(raw), MAX_WAIT_SECONDS)


def _query_reason(raw: str, _: str) -> str | None:
    """``?reason=``; the management URLs' ``{text}`` placeholder, posted as given, is no reason."""
    return None if raw == REASON_PLACEHOLDER else reason(raw)


def _issued_token(raw: str, name: str) -> str | None:
    """A token sent back: one in the form the API issues (its check is read with the page), or an empty header."""
    token = continuation_token(raw, name)
    if token is not None and not _ISSUED.fullmatch(token):
        raise RefusedRequest(name, f"{name} is not a token this API issued")
    return token


def _prefix(raw: str, name: str) -> str:
    if len(raw) > MAX_PREFIX_LENGTH:
        raise RefusedRequest(name, f"{name} must be at most {MAX_PREFIX_LENGTH} characters")
    return raw


_ISSUED = re.compile(CONTINUATION_PATTERN)
_STATUSES = "|".join(RUNTIME_STATUS.values())
_OPAQUE = "Opaque: send it back as answered; a token this API did not issue is a 400."

EXISTING_ID = Kind({"type": "string", "pattern": EXISTING_ID_PATTERN}, _instance_id)
ID = Kind({"type": "string", "pattern": ID_PATTERN}, identifier)
FLAG = Kind(
    {
        "type": "string",
        "enum": list(
            dict.fromkeys(spelling for word in BOOLEAN_WORDS for spelling in (word, word.title(), word.upper()))
        ),
    },
    _flag,
)
TEXT = Kind({"type": "string"}, lambda raw, _: raw)
AMOUNT = Kind({"type": "integer", "minimum": -MAX_NUMBER_MAGNITUDE, "maximum": MAX_NUMBER_MAGNITUDE}, _integer)
SECONDS = Kind({"type": "number", "minimum": 0}, _seconds)
REASON = Kind({"type": "string", "maxLength": MAX_REASON_LENGTH}, _query_reason)
PREFIX = Kind({"type": "string", "maxLength": MAX_PREFIX_LENGTH}, _prefix)
TIMESTAMP = Kind({"type": "string", "pattern": TIMESTAMP_PATTERN}, timestamp)
STATUSES = Kind(
    {"type": "string", "pattern": f"^({_STATUSES})(,({_STATUSES}))*$"}, lambda raw, _: runtime_statuses(raw)
)
PAGE_SIZE = Kind(
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}, lambda raw, name: page_size(raw, None, field=name)
)
ISSUED_TOKEN = Kind(
    {
        "type": "string",
        "maxLength": MAX_TOKEN_LENGTH,
        "pattern": CONTINUATION_PATTERN,
        "description": _OPAQUE,
    },
    continuation_token,
)
"""The ``x-ms-continuation-token`` a partial page answers with."""

SENT_TOKEN = Kind(
    {
        **ISSUED_TOKEN.schema,
        "pattern": f"^(?:{CONTINUATION_PATTERN.removeprefix('^').removesuffix('$')})?$",
        "description": f"{_OPAQUE} An empty header counts as none.",
    },
    _issued_token,
)
"""The token a caller sends back: an issued one, or an empty header, which the app reads as none."""

INSTANCE_ID = Param(
    "instance_id",
    "path",
    EXISTING_ID,
    "The instance id: up to 256 characters, so the ids the app gives sub-orchestrations fit too.",
)
KEY = Param("key", "path", ID, "The entity's key.")
TOP = Param("top", "query", PAGE_SIZE, "The most entries in one page.")
CONTINUATION = Param(
    CONTINUATION_HEADER,
    "header",
    SENT_TOKEN,
    "The token a partial page answered with, sent back unchanged with the same filters: read the page after it.",
)
TIMEOUT = Param(
    "timeout",
    "query",
    SECONDS,
    "Seconds to wait for the instance to finish within this request (decimals allowed; at most "
    f"{MAX_WAIT_SECONDS:g} s are waited, larger values wait that long): 200 with its status if it finishes in "
    "time, else the usual 202.",
)
ACTION_REASON = Param("reason", "query", REASON, "Why (kept with the instance); or in the body, not both.")
