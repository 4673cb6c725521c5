"""The local scheduler's redelivery extension."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from durabletask.client import OrchestrationStatus, TaskHubGrpcClient
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.internal import orchestrator_service_pb2_grpc as stubs

from local_stack.ports import free_port
from local_stack.scheduler import LocalScheduler
from tests.helpers.polling import wait_until
from tests.helpers.workers import start_worker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_scheduler() -> Iterator[LocalScheduler]:
    scheduler = LocalScheduler(port=free_port())
    scheduler.start()
    yield scheduler
    scheduler.stop(grace=0)


def test_a_taken_port_is_a_clear_error(own_scheduler: LocalScheduler) -> None:
    with pytest.raises(OSError, match="in use"):
        LocalScheduler(port=own_scheduler.port).start()


def test_activities_of_a_killed_worker_are_redelivered(own_scheduler: LocalScheduler) -> None:
    client = TaskHubGrpcClient(host_address=f"localhost:{own_scheduler.port}")
    doomed = start_worker(own_scheduler.port, delay=5)
    try:
        instance_id = client.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=[1, 2, 3, 4])
        wait_until(lambda: own_scheduler.held_work_items() >= 4, message="activities never reached the worker")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
        wait_until(lambda: own_scheduler.held_work_items() == 0)
        assert own_scheduler.redelivered >= 4
        rescuer = start_worker(own_scheduler.port, delay=0)
        try:
            state = client.wait_for_orchestration_completion(instance_id, timeout=30)
        finally:
            rescuer.terminate()
            rescuer.wait(15)
        assert state is not None and state.runtime_status is OrchestrationStatus.COMPLETED
        assert state.get_output() == {"total_items": 4, "sum": 30, "average": 7.5}
    finally:
        if doomed.poll() is None:
            doomed.kill()
        client.close()


def test_an_orchestration_held_by_a_dropped_stream_is_redelivered(own_scheduler: LocalScheduler) -> None:
    client = TaskHubGrpcClient(host_address=f"localhost:{own_scheduler.port}")
    instance_id = client.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=[5])
    channel = grpc.insecure_channel(f"localhost:{own_scheduler.port}")
    stream = stubs.TaskHubSidecarServiceStub(channel).GetWorkItems(pb.GetWorkItemsRequest())
    item = next(stream)
    assert item.orchestratorRequest.instanceId == instance_id
    assert own_scheduler.held_work_items() == 1
    stream.cancel()
    channel.close()
    wait_until(lambda: own_scheduler.held_work_items() == 0)
    worker = start_worker(own_scheduler.port, delay=0)
    try:
        state = client.wait_for_orchestration_completion(instance_id, timeout=30)
    finally:
        worker.terminate()
        worker.wait(15)
        client.close()
    assert state is not None and state.get_output() == {"total_items": 1, "sum": 25, "average": 25.0}


def test_a_stale_completion_from_the_dropped_stream_is_ignored(own_scheduler: LocalScheduler) -> None:
    client = TaskHubGrpcClient(host_address=f"localhost:{own_scheduler.port}")
    instance_id = client.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=[5])
    channel = grpc.insecure_channel(f"localhost:{own_scheduler.port}")
    stub = stubs.TaskHubSidecarServiceStub(channel)
    stream = stub.GetWorkItems(pb.GetWorkItemsRequest())
    item = next(stream)
    stream.cancel()
    wait_until(lambda: own_scheduler.held_work_items() == 0)
    stale = pb.OrchestratorResponse(
        instanceId=instance_id,
        completionToken=item.completionToken,
        actions=[
            pb.OrchestratorAction(
                completeOrchestration=pb.CompleteOrchestrationAction(
                    orchestrationStatus=pb.ORCHESTRATION_STATUS_COMPLETED
                )
            )
        ],
    )
    stub.CompleteOrchestratorTask(stale)
    state = client.get_orchestration_state(instance_id)
    assert state is not None and state.runtime_status is OrchestrationStatus.PENDING
    channel.close()
    client.close()


def test_an_idle_stream_gets_health_pings_and_then_its_work() -> None:
    """Pings keep the SDK worker from taking a quiet stream for a dead one; work still flows between them."""
    scheduler = LocalScheduler(port=free_port(), ping_interval=0.2)
    scheduler.start()
    channel = grpc.insecure_channel(f"localhost:{scheduler.port}")
    try:
        stream = stubs.TaskHubSidecarServiceStub(channel).GetWorkItems(pb.GetWorkItemsRequest())
        assert next(stream).HasField("healthPing")
        assert next(stream).HasField("healthPing")
        client = TaskHubGrpcClient(host_address=f"localhost:{scheduler.port}")
        instance_id = client.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=[2])
        item = next(item for item in stream if not item.HasField("healthPing"))
        assert item.orchestratorRequest.instanceId == instance_id
        assert scheduler.held_work_items() == 1
        stream.cancel()
        client.close()
        wait_until(lambda: scheduler.held_work_items() == 0)
    finally:
        channel.close()
        scheduler.stop(grace=0)


class _CountedWakeUp(threading.Event):
    """The backend's work-available event, counting the times it is set."""

    def __init__(self) -> None:
        super().__init__()
        self.sets = 0

    def set(self) -> None:
        self.sets += 1
        super().set()


def test_an_episode_ending_with_events_queued_wakes_the_streams(own_scheduler: LocalScheduler) -> None:
    """An event raised while a worker holds the instance is queued; finishing the episode must announce it, or
    the streams sleep out their poll before offering the next episode."""
    client = TaskHubGrpcClient(host_address=f"localhost:{own_scheduler.port}")
    channel = grpc.insecure_channel(f"localhost:{own_scheduler.port}")
    stub = stubs.TaskHubSidecarServiceStub(channel)
    try:
        instance_id = client.schedule_new_orchestration("approval_workflow", input={"request_id": "r1"})
        stream = stub.GetWorkItems(pb.GetWorkItemsRequest())
        held = next(stream)
        client.raise_orchestration_event(instance_id, "approval", data=True)
        wait_until(lambda: instance_id in own_scheduler._orchestration_queue_set)
        wake_up = own_scheduler._work_available = _CountedWakeUp()
        stub.CompleteOrchestratorTask(
            pb.OrchestratorResponse(instanceId=instance_id, completionToken=held.completionToken)
        )
        assert wake_up.sets == 1
        following = next(stream)
        assert following.orchestratorRequest.instanceId == instance_id
        assert [e.eventRaised.name for e in following.orchestratorRequest.newEvents if e.HasField("eventRaised")] == [
            "approval"
        ]
        stream.cancel()
    finally:
        channel.close()
        client.close()
