"""The local scheduler answers as DTS does: prompt, final termination (also of sub-orchestrations), recursive
purge, entity storage cleaning, and an entity batch finished as its stream ended counted once. Both stores."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from durabletask import task
from durabletask.client import EntityQuery, OrchestrationStatus, TaskHubGrpcClient
from durabletask.entities import EntityInstanceId
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.internal import orchestrator_service_pb2_grpc as stubs
from durabletask.worker import TaskHubGrpcWorker
from google.protobuf import wrappers_pb2

from durable_app.workflows.registry import register_all
from local_stack.scheduler import LocalScheduler
from tests.helpers.polling import wait_until
from tests.helpers.workers import Tally


def history_of(client: TaskHubGrpcClient, instance_id: str) -> list[str]:
    return [type(event).__name__ for event in client.get_orchestration_history(instance_id)]


def child(ctx: task.OrchestrationContext, _: Any) -> Any:
    """Waits for an event that only the test raises."""
    answer = yield ctx.wait_for_external_event("go")
    return answer


def parent(ctx: task.OrchestrationContext, _: Any) -> Any:
    """Runs ``child`` as a sub-orchestration with a predictable id."""
    answer = yield ctx.call_sub_orchestrator(child, instance_id=f"{ctx.instance_id}-child")
    return answer


@pytest.fixture
def worker(store_scheduler: LocalScheduler, instant_work: None) -> Iterator[TaskHubGrpcWorker]:
    running = TaskHubGrpcWorker(host_address=f"localhost:{store_scheduler.port}")
    register_all(running)
    running.add_orchestrator(parent)
    running.add_orchestrator(child)
    running.add_entity(Tally)
    running.start()
    yield running
    running.stop()


def test_terminate_takes_effect_before_the_call_returns(store_client: TaskHubGrpcClient) -> None:
    """No worker is connected: the termination cannot wait for one to replay the instance."""
    instance_id = store_client.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=[1, 2])
    store_client.terminate_orchestration(instance_id, output="stopped")
    state = store_client.get_orchestration_state(instance_id)
    assert state is not None and state.runtime_status is OrchestrationStatus.TERMINATED
    assert state.get_output() == "stopped"
    history = history_of(store_client, instance_id)
    assert history == [
        "OrchestratorStartedEvent",
        "ExecutionStartedEvent",
        "ExecutionTerminatedEvent",
        "OrchestratorCompletedEvent",
        "ExecutionCompletedEvent",
    ]
    store_client.terminate_orchestration(instance_id, output="again")
    assert history_of(store_client, instance_id) == history
    assert store_client.get_orchestration_state(instance_id).get_output() == "stopped"


def test_terminate_records_the_events_queued_before_it(store_client: TaskHubGrpcClient) -> None:
    """No worker is connected, so the suspend, resume and event are still queued when the terminate arrives.

    DTS puts the termination in the same inbox behind them, and its worker records them all in order.
    """
    instance_id = store_client.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=[1, 2])
    store_client.suspend_orchestration(instance_id)
    store_client.resume_orchestration(instance_id)
    store_client.raise_orchestration_event(instance_id, "Approval", data={"go": 1})
    store_client.terminate_orchestration(instance_id, output="stopped")
    assert history_of(store_client, instance_id) == [
        "OrchestratorStartedEvent",
        "ExecutionStartedEvent",
        "ExecutionSuspendedEvent",
        "ExecutionResumedEvent",
        "EventRaisedEvent",
        "ExecutionTerminatedEvent",
        "OrchestratorCompletedEvent",
        "ExecutionCompletedEvent",
    ]


def test_a_terminated_history_never_changes_and_late_results_are_dropped(
    store_scheduler: LocalScheduler, store_client: TaskHubGrpcClient
) -> None:
    """The work items are held at a gate until after the terminate, so every result arrives late."""
    gate = threading.Event()

    def gated_step(ctx: task.ActivityContext, item: int) -> int:
        gate.wait(60)
        return item

    def gated_fan_out(ctx: task.OrchestrationContext, items: list[int]) -> Any:
        results = yield task.when_all([ctx.call_activity(gated_step, input=item) for item in items])
        return results

    worker = TaskHubGrpcWorker(host_address=f"localhost:{store_scheduler.port}")
    worker.add_activity(gated_step)
    worker.add_orchestrator(gated_fan_out)
    worker.start()
    try:
        instance_id = store_client.schedule_new_orchestration(gated_fan_out, input=[1, 2, 3, 4])
        wait_until(lambda: store_scheduler.held_work_items() >= 4, message="the activities never reached the worker")
        store_client.terminate_orchestration(instance_id)
        terminated = store_client.get_orchestration_state(instance_id)
        history = history_of(store_client, instance_id)
        gate.set()
        wait_until(lambda: store_scheduler.held_work_items() == 0, message="the worker never answered")
        after = store_client.get_orchestration_state(instance_id)
    finally:
        gate.set()
        worker.stop()
    assert after.runtime_status is OrchestrationStatus.TERMINATED
    assert history_of(store_client, instance_id) == history
    assert history.count("ExecutionCompletedEvent") == 1 and "TaskCompletedEvent" not in history
    assert after.last_updated_at == terminated.last_updated_at


def test_terminate_is_recursive_as_in_dts(worker: TaskHubGrpcWorker, store_client: TaskHubGrpcClient) -> None:
    for recursive in (True, False):
        instance_id = store_client.schedule_new_orchestration(parent, instance_id=f"terminated-{recursive}")
        child_id = f"{instance_id}-child"
        wait_until(lambda id=child_id: _status(store_client, id) is OrchestrationStatus.RUNNING)
        store_client.terminate_orchestration(instance_id, output="stop", recursive=recursive)
        expected = OrchestrationStatus.TERMINATED if recursive else OrchestrationStatus.RUNNING
        assert _status(store_client, child_id) is expected
        assert _status(store_client, instance_id) is OrchestrationStatus.TERMINATED


def test_purge_is_recursive_as_in_dts(worker: TaskHubGrpcWorker, store_client: TaskHubGrpcClient) -> None:
    for recursive in (True, False):
        instance_id = store_client.schedule_new_orchestration(parent, instance_id=f"purged-{recursive}")
        child_id = f"{instance_id}-child"
        wait_until(lambda id=child_id: _status(store_client, id) is OrchestrationStatus.RUNNING)
        store_client.raise_orchestration_event(child_id, "go", data="done")
        state = store_client.wait_for_orchestration_completion(instance_id, timeout=30)
        assert state is not None and state.get_output() == "done"
        result = store_client.purge_orchestration(instance_id, recursive=recursive)
        assert result.deleted_instance_count == (2 if recursive else 1)
        assert store_client.get_orchestration_state(instance_id) is None
        assert (store_client.get_orchestration_state(child_id) is None) is recursive


def test_cleaning_entity_storage_removes_nothing_as_in_dts(
    worker: TaskHubGrpcWorker, store_client: TaskHubGrpcClient
) -> None:
    """DTS answers 0 removed: an entity left without state is already gone, so there is nothing to clean."""
    entity_id = EntityInstanceId("counter", "emptied")
    store_client.signal_entity(entity_id, "add", input=1)
    wait_until(lambda: store_client.get_entity(entity_id) is not None)
    store_client.signal_entity(EntityInstanceId("tally", "never-created"), "delete")
    wait_until(lambda: not _transient_entities(store_client, "@tally@"))
    result = store_client.clean_entity_storage()
    assert (result.empty_entities_removed, result.orphaned_locks_released) == (0, 0)
    assert store_client.get_entity(entity_id).get_state(int) == 1


def test_an_entity_batch_finished_as_its_stream_ended_is_accepted_once(
    store_scheduler: LocalScheduler, store_client: TaskHubGrpcClient
) -> None:
    entity_id = EntityInstanceId("counter", "late")
    store_client.signal_entity(entity_id, "add", input=5)
    channel = grpc.insecure_channel(f"localhost:{store_scheduler.port}")
    stub = stubs.TaskHubSidecarServiceStub(channel)
    try:
        stream = stub.GetWorkItems(pb.GetWorkItemsRequest())
        item = next(item for item in stream if item.HasField("entityRequest"))
        stream.cancel()  # the worker's stream ends just as it finishes the batch...
        wait_until(lambda: store_scheduler.held_work_items() == 0)
        stub.CompleteEntityTask(  # ...and its completion arrives after the batch went back on the queue
            pb.EntityBatchResult(
                completionToken=item.completionToken,
                entityState=wrappers_pb2.StringValue(value="5"),
                results=[pb.OperationResult(success=pb.OperationResultSuccess())],
            )
        )
    finally:
        channel.close()
    metadata = store_client.get_entity(entity_id)
    assert metadata is not None and metadata.get_state(int) == 5
    assert metadata.backlog_queue_size == 0  # not queued to run again


def _status(client: TaskHubGrpcClient, instance_id: str) -> OrchestrationStatus | None:
    state = client.get_orchestration_state(instance_id)
    return state.runtime_status if state is not None else None


def _transient_entities(client: TaskHubGrpcClient, prefix: str) -> list[Any]:
    return client.get_all_entities(EntityQuery(instance_id_starts_with=prefix, include_transient=True))
