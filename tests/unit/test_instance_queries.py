"""Query, purge and timeout parameters as Durable Functions names them, checked before any scheduler call."""

from __future__ import annotations

from datetime import UTC, datetime

import azure.functions as func
import pytest
from durabletask.azuremanaged.client import AsyncDurableTaskSchedulerClient
from durabletask.client import OrchestrationStatus

from durable_app.http import instance_queries as queries
from durable_app.http.parameters import MAX_WAIT_SECONDS, TIMEOUT
from durable_app.http.routes.instances import PURGE_MANY
from durable_app.values import MAX_PAGE_SIZE, RefusedRequest, page_size


def test_the_one_private_sdk_name_the_single_page_query_uses_is_still_there() -> None:
    assert callable(AsyncDurableTaskSchedulerClient._get_stub)


def test_runtime_status_names_are_durable_functions_names_spelled_exactly() -> None:
    assert queries.runtime_statuses("Running,ContinuedAsNew,Suspended") == [
        OrchestrationStatus.RUNNING,
        OrchestrationStatus.CONTINUED_AS_NEW,
        OrchestrationStatus.SUSPENDED,
    ]
    for bad in ("running", "Running,", "Canceled", "Running, Failed"):
        with pytest.raises(RefusedRequest) as refused:
            queries.runtime_statuses(bad)
        assert refused.value.field == "runtimeStatus"


def test_timestamps_are_iso_8601_and_utc_without_an_offset() -> None:
    assert queries.timestamp("2026-01-31", "createdTimeFrom") == datetime(2026, 1, 31, tzinfo=UTC)
    assert queries.timestamp("2026-01-31T08:00:00.5Z", "x") == datetime(2026, 1, 31, 8, 0, 0, 500000, tzinfo=UTC)
    moment = queries.timestamp("2026-01-31T10:00+02:00", "x")
    assert moment is not None and moment.astimezone(UTC).hour == 8
    for bad in ("31/01/2026", "2026-01-31 08:00", "2026-02-30", "20260131T080000Z", "now"):
        with pytest.raises(RefusedRequest) as refused:
            queries.timestamp(bad, "createdTimeTo")
        assert refused.value.field == "createdTimeTo"


@pytest.mark.parametrize("bad", ["0", "-1", "1001", "1.5", "ten", "١٢"])
def test_top_is_a_whole_number_within_the_page_limit(bad: str) -> None:
    assert page_size(None, queries.DEFAULT_PAGE_SIZE) == queries.DEFAULT_PAGE_SIZE
    assert page_size("1000", queries.DEFAULT_PAGE_SIZE) == MAX_PAGE_SIZE
    with pytest.raises(RefusedRequest) as refused:
        page_size(bad, queries.DEFAULT_PAGE_SIZE)
    assert refused.value.field == "top"


def request(params: dict[str, str]) -> func.HttpRequest:
    return func.HttpRequest("DELETE", "http://localhost/api/instances", params=params, body=b"")


def purge_filter(params: dict[str, str]) -> queries.InstanceFilter:
    """The purge route's filters as its declaration reads them and its handler checks them."""
    req = request(params)
    return queries.purge_filter(PURGE_MANY.read(req), req.params)


def test_a_purge_needs_a_filter_and_refuses_what_only_a_list_honours() -> None:
    with pytest.raises(RefusedRequest) as refused:
        purge_filter({})
    assert refused.value.field == "createdTimeFrom"
    for name in queries.LIST_ONLY:
        with pytest.raises(RefusedRequest) as refused:
            purge_filter({"runtimeStatus": "Completed", name: "1"})
        assert refused.value.field == name
    assert purge_filter({"runtimeStatus": "Failed"}).statuses == [OrchestrationStatus.FAILED]


def test_timeout_is_seconds_held_to_the_cap() -> None:
    assert TIMEOUT.read(request({})) is None
    assert TIMEOUT.read(request({"timeout": "2.5"})) == 2.5
    assert TIMEOUT.read(request({"timeout": "100000"})) == MAX_WAIT_SECONDS
    assert MAX_WAIT_SECONDS < 230  # Azure's front end drops a request after 230 s
    for bad in ("-1", "abc", "nan", "inf", "1e999"):
        with pytest.raises(RefusedRequest) as refused:
            TIMEOUT.read(request({"timeout": bad}))
        assert refused.value.field == "timeout"
