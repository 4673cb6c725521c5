"""A recursive purge removes only the purged instance's own sub-orchestrations, never an unrelated instance
that took a finished child's id afterwards, by id and by time window, in both stores (DTS's ``recursive``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from durabletask import task
from durabletask.client import OrchestrationState, TaskHubGrpcClient
from durabletask.history import ExecutionStartedEvent
from durabletask.worker import TaskHubGrpcWorker

from durable_app.http.routes.orchestrations import REUSE_FINISHED_IDS
from local_stack.scheduler import LocalScheduler


def leaf(ctx: task.OrchestrationContext, value: Any) -> Any:
    """Finishes at once with its input."""
    return value


def two_children(ctx: task.OrchestrationContext, _: Any) -> Any:
    """Runs ``leaf`` twice as sub-orchestrations with predictable ids, as ``chunked_fan_out`` names its chunks."""
    results = yield task.when_all(
        [ctx.call_sub_orchestrator(leaf, input=n, instance_id=f"{ctx.instance_id}-chunk-{n}") for n in (0, 1)]
    )
    return results


@pytest.fixture
def worker(store_scheduler: LocalScheduler) -> Iterator[TaskHubGrpcWorker]:
    running = TaskHubGrpcWorker(host_address=f"localhost:{store_scheduler.port}")
    running.add_orchestrator(leaf)
    running.add_orchestrator(two_children)
    running.start()
    yield running
    running.stop()


def _finished(client: TaskHubGrpcClient, instance_id: str) -> OrchestrationState:
    state = client.wait_for_orchestration_completion(instance_id, timeout=30)
    assert state is not None and state.failure_details is None
    return state


def _parent_then_unrelated_reusing_a_child_id(client: TaskHubGrpcClient, parent_id: str) -> OrchestrationState:
    """Run ``parent_id`` to its end, then an unrelated ``leaf`` under its first child's id, as the API allows."""
    assert _finished(client, client.schedule_new_orchestration(two_children, instance_id=parent_id)).get_output() == [
        0,
        1,
    ]
    unrelated = client.schedule_new_orchestration(
        leaf, input="mine", instance_id=f"{parent_id}-chunk-0", reuse_id_policy=REUSE_FINISHED_IDS
    )
    return _finished(client, unrelated)


def test_purging_by_id_keeps_an_unrelated_instance_that_reuses_a_child_id(
    worker: TaskHubGrpcWorker, store_client: TaskHubGrpcClient
) -> None:
    unrelated = _parent_then_unrelated_reusing_a_child_id(store_client, "lineage")

    result = store_client.purge_orchestration("lineage", recursive=True)

    assert result.deleted_instance_count == 2  # the parent and its remaining child
    assert store_client.get_orchestration_state("lineage") is None
    assert store_client.get_orchestration_state("lineage-chunk-1") is None
    kept = store_client.get_orchestration_state(unrelated.instance_id, fetch_payloads=True)
    assert kept is not None and kept.serialized_output == '"mine"'


def test_purging_a_time_window_keeps_an_unrelated_instance_that_reuses_a_child_id(
    worker: TaskHubGrpcWorker, store_client: TaskHubGrpcClient
) -> None:
    unrelated = _parent_then_unrelated_reusing_a_child_id(store_client, "window")
    parent = store_client.get_orchestration_state("window")
    assert parent is not None

    result = store_client.purge_orchestrations_by(
        created_time_from=parent.created_at, created_time_to=unrelated.created_at, recursive=True
    )

    assert result.deleted_instance_count == 2
    assert store_client.get_orchestration_state("window") is None
    assert store_client.get_orchestration_state("window-chunk-1") is None
    kept = store_client.get_orchestration_state(unrelated.instance_id, fetch_payloads=True)
    assert kept is not None and kept.serialized_output == '"mine"'


def test_a_sub_orchestration_records_its_parent_as_in_dts(
    worker: TaskHubGrpcWorker, store_client: TaskHubGrpcClient
) -> None:
    _finished(store_client, store_client.schedule_new_orchestration(two_children, instance_id="family"))
    started = next(
        e for e in store_client.get_orchestration_history("family-chunk-1") if isinstance(e, ExecutionStartedEvent)
    )
    assert started.parent_instance is not None
    assert started.parent_instance.orchestration_instance is not None
    assert started.parent_instance.orchestration_instance.instance_id == "family"
    assert started.parent_instance.name == "two_children"
