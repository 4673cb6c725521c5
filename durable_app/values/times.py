"""Timestamps as the API writes them: ISO 8601 with an explicit offset, never a naive time."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(moment: datetime) -> str:
    """ISO 8601 with an explicit UTC offset; the SDK returns scheduler timestamps as naive UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()
