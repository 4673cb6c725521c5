"""Entity batches leave the local scheduler with each signal's trace context, and calls still get their results.

A batch goes to the worker as ``EntityBatchRequest``, the one form whose operations carry ``traceContext``
(the SDK's worker starts each operation's span under it); the worker answers that form without
``operationInfos``, so the scheduler routes a call's result from the batch it dispatched. Both stores.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from durabletask import task
from durabletask.client import OrchestrationStatus, TaskHubGrpcClient
from durabletask.entities import EntityContext, EntityInstanceId
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.internal import orchestrator_service_pb2_grpc as stubs
from durabletask.worker import TaskHubGrpcWorker
from google.protobuf import wrappers_pb2

from local_stack.scheduler import LocalScheduler
from tests.helpers.polling import wait_until

TRACE_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def ledger(ctx: EntityContext, amount: int) -> int:
    """Adds ``amount`` to its state and answers the new total."""
    total = ctx.get_state(int, 0) + amount
    ctx.set_state(total)
    return total


def book_twice(ctx: task.OrchestrationContext, key: str) -> Any:
    """Calls the entity twice and returns both answers: only a delivered result lets it go on."""
    entity = EntityInstanceId("ledger", key)
    first = yield ctx.call_entity(entity, "add", 2)
    second = yield ctx.call_entity(entity, "add", 3)
    return [first, second]


@pytest.fixture
def worker(store_scheduler: LocalScheduler) -> Iterator[TaskHubGrpcWorker]:
    running = TaskHubGrpcWorker(host_address=f"localhost:{store_scheduler.port}")
    running.add_entity(ledger)
    running.add_orchestrator(book_twice)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def stub(store_scheduler: LocalScheduler) -> Iterator[stubs.TaskHubSidecarServiceStub]:
    channel = grpc.insecure_channel(f"localhost:{store_scheduler.port}")
    yield stubs.TaskHubSidecarServiceStub(channel)
    channel.close()


def test_an_orchestration_calling_an_entity_gets_each_result(
    worker: TaskHubGrpcWorker, store_client: TaskHubGrpcClient
) -> None:
    instance_id = store_client.schedule_new_orchestration(book_twice, input="calls")
    state = store_client.wait_for_orchestration_completion(instance_id, timeout=30)
    assert state is not None and state.runtime_status is OrchestrationStatus.COMPLETED
    assert state.get_output() == [2, 5]


def test_a_signal_carries_its_trace_context_to_the_operation_also_when_redelivered(
    store_scheduler: LocalScheduler, store_client: TaskHubGrpcClient, stub: stubs.TaskHubSidecarServiceStub
) -> None:
    entity_id = "@ledger@traced"
    traced = pb.TraceContext(traceParent=TRACE_PARENT, traceState=wrappers_pb2.StringValue(value="app=1"))
    stub.SignalEntity(
        pb.SignalEntityRequest(
            instanceId=entity_id,
            name="add",
            input=wrappers_pb2.StringValue(value="4"),
            requestId=uuid.uuid4().hex,
            parentTraceContext=traced,
        )
    )
    stub.SignalEntity(pb.SignalEntityRequest(instanceId=entity_id, name="add", requestId=uuid.uuid4().hex))

    first = _next_entity_batch(stub)  # its stream ends before it answers: the batch goes back on the queue
    wait_until(lambda: store_scheduler.held_work_items() == 0)
    redelivered = _next_entity_batch(stub, answer=True)

    for batch in (first, redelivered):
        assert [op.operation for op in batch.entityRequest.operations] == ["add", "add"]
        with_context, without = batch.entityRequest.operations
        assert with_context.traceContext == traced
        assert with_context.input.value == "4"
        assert not without.HasField("traceContext")
    assert redelivered.completionToken != first.completionToken
    metadata = store_client.get_entity(EntityInstanceId.parse(entity_id))
    assert metadata is not None and metadata.get_state(int) == 4


def _next_entity_batch(stub: stubs.TaskHubSidecarServiceStub, answer: bool = False) -> pb.WorkItem:
    """The next entity batch a fresh worker stream receives; with ``answer``, completed as a worker would."""
    stream = stub.GetWorkItems(pb.GetWorkItemsRequest())
    try:
        item = next(item for item in stream if item.HasField("entityRequest") or item.HasField("entityRequestV2"))
        if answer:
            stub.CompleteEntityTask(
                pb.EntityBatchResult(
                    completionToken=item.completionToken,
                    entityState=wrappers_pb2.StringValue(value="4"),
                    results=[pb.OperationResult(success=pb.OperationResultSuccess())] * 2,
                )
            )
    finally:
        stream.cancel()
    return item
