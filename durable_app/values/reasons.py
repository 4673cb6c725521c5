"""The human reason a caller gives for terminating, suspending, resuming or rewinding an instance."""

from __future__ import annotations

from typing import Any

from durable_app.values.refusal import RefusedRequest

MAX_REASON_LENGTH = 1000
"""The scheduler keeps the reason with the instance: a bounded note, not a payload."""


def reason(value: Any) -> str | None:
    """``value`` as a reason (``None`` for none), from a query string or a JSON body alike."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_REASON_LENGTH:
        raise RefusedRequest("reason", f"reason must be a string of at most {MAX_REASON_LENGTH} characters")
    return value
