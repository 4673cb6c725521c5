"""Instance queries and purge filters in Durable Functions' parameter names, and one page of a query.

``GET /instances`` and ``DELETE /instances`` take the filters Durable Functions' HTTP API takes:
``runtimeStatus`` (comma-separated status names), ``createdTimeFrom`` / ``createdTimeTo`` (ISO 8601; without
an offset, UTC), and for the list also ``instanceIdPrefix``, ``showInput`` and ``top``. Every value is checked
before anything reaches the scheduler: a bad one is a 400 naming its parameter.

A list answers one scheduler page, read by ``durable_app.http.paging``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from durabletask.client import OrchestrationQuery, OrchestrationStatus

from durable_app.scheduler import STATUS_BY_NAME
from durable_app.values import RefusedRequest, json_words

DEFAULT_PAGE_SIZE = 100
"""Instances per page when ``top`` is not given (Durable Functions' default page size)."""

MAX_PREFIX_LENGTH = 256
"""An id prefix longer than the longest id the API reads (a sub-orchestration's included) can match nothing; it is
refused instead."""

TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?$"
)
"""ISO 8601 as the API accepts it: a date, or a date and time with optional seconds, fraction and offset (a day
the month lacks, such as February 30, fits the pattern and is refused when read)."""

_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)

LIST_ONLY = ("instanceIdPrefix", "showInput", "top")
"""List parameters a purge cannot honour: the scheduler's purge filter has no id prefix, so a purge that
ignored one would delete more than asked."""


@dataclass(frozen=True)
class InstanceFilter:
    """The filters list and purge share, as their route declarations read them."""

    statuses: list[OrchestrationStatus]
    created_from: datetime | None
    created_to: datetime | None

    @classmethod
    def of(cls, given: Mapping[str, Any]) -> InstanceFilter:
        return cls(given["runtimeStatus"] or [], given["createdTimeFrom"], given["createdTimeTo"])

    def is_empty(self) -> bool:
        return not self.statuses and self.created_from is None and self.created_to is None


def list_query(given: Mapping[str, Any]) -> OrchestrationQuery:
    """``GET /instances``'s scheduler query from its checked parameters."""
    filters = InstanceFilter.of(given)
    return OrchestrationQuery(
        created_time_from=filters.created_from,
        created_time_to=filters.created_to,
        runtime_status=filters.statuses or None,
        max_instance_count=given["top"],
        fetch_inputs_and_outputs=True,  # outputs are always shown; inputs only with showInput
        instance_id_prefix=given["instanceIdPrefix"] or None,
    )


def purge_filter(given: Mapping[str, Any], params: Mapping[str, str]) -> InstanceFilter:
    """``DELETE /instances``'s filters: at least one, and none that only a list can honour."""
    for name in LIST_ONLY:
        if params.get(name) is not None:
            message = f"{name} is a list parameter; a purge filters by runtimeStatus and created time only"
            raise RefusedRequest(name, message)
    filters = InstanceFilter.of(given)
    if filters.is_empty():
        raise RefusedRequest(
            "createdTimeFrom",
            "a purge needs at least one filter: createdTimeFrom, createdTimeTo or runtimeStatus",
        )
    return filters


def runtime_statuses(raw: str | None) -> list[OrchestrationStatus]:
    """``Running,Failed`` (the host joins repeated parameters with a comma) as SDK statuses."""
    if raw is None:
        return []
    statuses = []
    for name in raw.split(","):
        status = STATUS_BY_NAME.get(name)
        if status is None:
            choices = ", ".join(STATUS_BY_NAME)
            raise RefusedRequest("runtimeStatus", f"runtimeStatus must list names of {choices}; got {json_words(name)}")
        statuses.append(status)
    return statuses


def timestamp(raw: str | None, name: str) -> datetime | None:
    """An ISO 8601 date or date and time; one without an offset is UTC, as the scheduler's times are."""
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw) if _TIMESTAMP.fullmatch(raw) else None
    except ValueError:
        moment = None
    if moment is None:
        example = "2026-01-31T08:00:00Z"
        raise RefusedRequest(name, f"{name} must be an ISO 8601 date and time such as {example}, got {json_words(raw)}")
    try:
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC; 9999-12-31T23:59-01:00 after 9999
        raise RefusedRequest(name, f"{name} must fall within the years 1-9999 in UTC, got {json_words(raw)}") from None
