"""Newest-first instance queries (``query-order: created-desc``): keyset pages that neither repeat nor skip rows
while work arrives or leaves, the order echoed in initial metadata, and the default order unchanged. Both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from durabletask.client import OrchestrationStatus, TaskHubGrpcClient
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.internal import orchestrator_service_pb2_grpc as stubs
from google.protobuf import wrappers_pb2

from local_stack.ports import free_port
from local_stack.scheduler import LocalScheduler, serve
from tests.helpers.polling import wait_until

NEWEST_FIRST = ("query-order", "created-desc")


@pytest.fixture
def stub(store_scheduler: LocalScheduler) -> Iterator[stubs.TaskHubSidecarServiceStub]:
    with grpc.insecure_channel(f"localhost:{store_scheduler.port}") as channel:
        yield stubs.TaskHubSidecarServiceStub(channel)


def start(stub: stubs.TaskHubSidecarServiceStub, *instance_ids: str) -> None:
    """Create pending instances one after another, each created strictly later than the one before.

    After each start the clock is read until it has passed the instance's recorded creation time, so the next
    one cannot share it whatever the clock's resolution.
    """
    for instance_id in instance_ids:
        stub.StartInstance(pb.CreateInstanceRequest(instanceId=instance_id, name="waits"))
        state = stub.GetInstance(pb.GetInstanceRequest(instanceId=instance_id)).orchestrationState
        created = state.createdTimestamp.ToDatetime(tzinfo=UTC)
        wait_until(lambda: datetime.now(UTC) > created, message=f"the clock never passed {created}")  # noqa: B023


def query(
    stub: stubs.TaskHubSidecarServiceStub,
    size: int,
    token: str | None = None,
    *,
    newest_first: bool = True,
    **filters: object,
) -> tuple[list[str], str | None, tuple[tuple[str, str], ...]]:
    """One page: its instance ids, its continuation token and the call's initial metadata."""
    request = pb.QueryInstancesRequest(
        query=pb.InstanceQuery(
            maxInstanceCount=size,
            continuationToken=wrappers_pb2.StringValue(value=token) if token else None,
            **filters,  # type: ignore[arg-type]
        )
    )
    response, call = stub.QueryInstances.with_call(request, metadata=[NEWEST_FIRST] if newest_first else [])
    next_token = response.continuationToken.value if response.HasField("continuationToken") else None
    ids = [state.instanceId for state in response.orchestrationState]
    return ids, next_token, tuple(call.initial_metadata() or ())


def all_pages(stub: stubs.TaskHubSidecarServiceStub, size: int, **filters: object) -> list[list[str]]:
    pages, token = [], None
    while True:
        ids, token, _ = query(stub, size, token, **filters)
        pages.append(ids)
        if token is None:
            return pages


def test_newest_first_pages_neither_repeat_nor_skip_while_work_arrives(stub: stubs.TaskHubSidecarServiceStub) -> None:
    start(stub, "a", "b", "c", "d", "e")
    first, token, echoed = query(stub, 2)
    assert first == ["e", "d"]
    assert NEWEST_FIRST in echoed

    start(stub, "f", "g")  # new work between page reads: an offset would show "d" again on page 2
    second, token, _ = query(stub, 2, token)
    assert second == ["c", "b"]
    third, token, _ = query(stub, 2, token)
    assert (third, token) == (["a"], None)

    assert all_pages(stub, 3) == [["g", "f", "e"], ["d", "c", "b"], ["a"]]


def test_newest_first_pages_skip_nothing_when_shown_rows_are_purged(
    stub: stubs.TaskHubSidecarServiceStub, store_client: TaskHubGrpcClient
) -> None:
    start(stub, "a", "b", "c", "d", "e")
    first, token, _ = query(stub, 2)
    for shown in first:  # rows leaving before the next read: an offset would skip "c"
        store_client.terminate_orchestration(shown)
        store_client.wait_for_orchestration_completion(shown, timeout=10)
        store_client.purge_orchestration(shown)
    second, token, _ = query(stub, 2, token)
    assert second == ["c", "b"]


def test_the_last_page_has_no_token_even_when_exactly_full(stub: stubs.TaskHubSidecarServiceStub) -> None:
    start(stub, "a", "b", "c", "d")
    assert all_pages(stub, 2) == [["d", "c"], ["b", "a"]]
    assert query(stub, 0)[:2] == (["d", "c", "b", "a"], None)  # no count: every row, one page


def test_newest_first_filters_as_the_default_order_does(
    stub: stubs.TaskHubSidecarServiceStub, store_client: TaskHubGrpcClient
) -> None:
    start(stub, "job-1", "other-1", "job-2")
    cutoff = query(stub, 1, newest_first=False)  # the oldest row's creation time
    assert cutoff[0] == ["job-1"]
    start(stub, "job-3", "other-2", "job-4")
    store_client.terminate_orchestration("job-3")
    store_client.wait_for_orchestration_completion("job-3", timeout=10)

    by_prefix = all_pages(stub, 2, instanceIdPrefix=wrappers_pb2.StringValue(value="job-"))
    assert by_prefix == [["job-4", "job-3"], ["job-2", "job-1"]]
    pending = all_pages(stub, 10, runtimeStatus=[pb.ORCHESTRATION_STATUS_PENDING])
    assert pending == [["job-4", "other-2", "job-2", "other-1", "job-1"]]
    terminated = OrchestrationStatus.TERMINATED.value
    assert all_pages(stub, 10, runtimeStatus=[terminated]) == [["job-3"]]

    created = {state.instance_id: state.created_at for state in store_client.get_all_orchestration_states()}
    since = pb.InstanceQuery().createdTimeFrom
    since.FromDatetime(created["job-2"])
    until = pb.InstanceQuery().createdTimeTo
    until.FromDatetime(created["job-4"])
    window = all_pages(stub, 10, createdTimeFrom=since, createdTimeTo=until)
    assert window == [["other-2", "job-3", "job-2"]]  # from inclusive, to exclusive, as the backend filters


def test_without_the_metadata_the_order_is_oldest_first_and_not_echoed(
    stub: stubs.TaskHubSidecarServiceStub, store_client: TaskHubGrpcClient
) -> None:
    start(stub, "a", "b", "c", "d", "e")
    first, token, echoed = query(stub, 2, newest_first=False)
    assert (first, token) == (["a", "b"], "2")  # the backend's offset token, as before
    assert NEWEST_FIRST not in echoed
    assert query(stub, 2, token, newest_first=False)[0] == ["c", "d"]
    assert [state.instance_id for state in store_client.get_all_orchestration_states()] == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize("token", ["2", "not a token", "2026-11-27T18:00:00.000000|", "2026-11-27T18:00:00|x"])
def test_a_token_it_did_not_make_is_refused_naming_the_field(stub: stubs.TaskHubSidecarServiceStub, token: str) -> None:
    start(stub, "a")
    with pytest.raises(grpc.RpcError) as refused:
        query(stub, 2, token)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "continuationToken" in refused.value.details()


def test_a_token_stays_valid_across_a_restart_of_the_sqlite_store(tmp_path: Path) -> None:
    data_file = tmp_path / "scheduler.sqlite3"
    port = free_port()
    running = serve(port, data_file=data_file)
    try:
        with grpc.insecure_channel(f"localhost:{port}") as channel:
            before = stubs.TaskHubSidecarServiceStub(channel)
            start(before, "a", "b", "c", "d")
            first, token, _ = query(before, 2)
    finally:
        running.stop(grace=0)
    running = serve(port, data_file=data_file)
    try:
        with grpc.insecure_channel(f"localhost:{port}") as channel:
            after = stubs.TaskHubSidecarServiceStub(channel)
            assert (first, query(after, 2, token)[:2]) == (["d", "c"], (["b", "a"], None))
    finally:
        running.stop(grace=0)
