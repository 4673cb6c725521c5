"""Instance ids, entity keys and event names: one rule, checked the same way wherever one arrives."""

from __future__ import annotations

import re
from typing import Any

from durable_app.values.describe import json_words
from durable_app.values.refusal import RefusedRequest

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}$"
"""Instance ids, entity keys and event names: URL-safe characters DTS accepts everywhere."""

_ID_REGEX = re.compile(ID_PATTERN)
ID_RULE = "1-100 characters: letters, digits, '-', '_', '.', ':' (starting with a letter or digit)"

EXISTING_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,255}$"
"""Ids of instances that exist, for reading and acting on them: up to 256 characters (Durable Functions' limit),
since the app names sub-orchestrations after their parent (``<id>-chunk-<n>``), longer than a caller's id."""

_EXISTING_ID_REGEX = re.compile(EXISTING_ID_PATTERN)
EXISTING_ID_RULE = "1-256 characters: letters, digits, '-', '_', '.', ':' (starting with a letter or digit)"


def existing_instance_id(value: Any) -> str:
    """The id of an instance to read or act on: any id the app gives the instances it starts, children included."""
    if not isinstance(value, str) or not _EXISTING_ID_REGEX.fullmatch(value):
        raise RefusedRequest("instance_id", f"instance_id must be {EXISTING_ID_RULE}, got {json_words(value)}")
    return value


def id_problem(value: Any) -> str | None:
    """Why ``value`` is no instance id, entity key or event name (``None`` when it is one): the one check, which
    query strings, route paths and request models word as their own refusal."""
    if isinstance(value, str) and _ID_REGEX.fullmatch(value):
        return None
    return f"must be {ID_RULE}, got {json_words(value)}"


def identifier(value: Any, field: str) -> str:
    """An instance id, entity key or event name: URL-safe characters DTS accepts everywhere."""
    problem = id_problem(value)
    if problem is not None:
        raise RefusedRequest(field, f"{field} {problem}")
    return value


def optional_identifier(value: Any, field: str) -> str | None:
    return None if value in (None, "") else identifier(value, field)
