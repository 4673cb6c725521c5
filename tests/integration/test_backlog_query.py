"""The local scheduler's backlog query and the flow control that gives it meaning: a worker is handed no more
unfinished work than it announced it takes, the rest waits as ``pending`` for any worker with room."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from durabletask import task
from durabletask.client import TaskHubGrpcClient
from durabletask.worker import ConcurrencyOptions, TaskHubGrpcWorker

from local_stack.ports import free_port
from local_stack.scheduler import LocalScheduler
from local_stack.scheduler.backlog import read_backlog
from tests.helpers.polling import wait_until

pytestmark = pytest.mark.timeout(120)

ITEMS = 20
CAPACITY = 5
released = threading.Event()


def held_item(_: task.ActivityContext, item: int) -> int:
    released.wait(60)
    return item


def fan_out(context: task.OrchestrationContext, items: int) -> Any:
    results = yield task.when_all([context.call_activity(held_item, input=i) for i in range(items)])
    return sum(results)


@pytest.fixture
def worker(store_scheduler: LocalScheduler) -> Iterator[TaskHubGrpcWorker]:
    released.clear()
    running = TaskHubGrpcWorker(
        host_address=f"localhost:{store_scheduler.port}",
        concurrency_options=ConcurrencyOptions(
            maximum_concurrent_activity_work_items=CAPACITY, maximum_thread_pool_workers=CAPACITY
        ),
    )
    running.add_orchestrator(fan_out)
    running.add_activity(held_item)
    running.start()
    yield running
    released.set()
    running.stop()


def test_backlog_counts_waiting_and_held_work_by_kind(
    store_scheduler: LocalScheduler, store_client: TaskHubGrpcClient, worker: TaskHubGrpcWorker
) -> None:
    address = f"127.0.0.1:{store_scheduler.port}"
    wait_until(lambda: read_backlog(address)["workers"] == 1)
    assert read_backlog(address) == {
        "pending": {"orchestration": 0, "activity": 0, "entity": 0},
        "in_flight": {"orchestration": 0, "activity": 0, "entity": 0},
        "workers": 1,
    }
    instance_id = store_client.schedule_new_orchestration(fan_out, input=ITEMS)
    wait_until(lambda: read_backlog(address)["pending"]["activity"] == ITEMS - CAPACITY)
    backlog = read_backlog(address)
    assert backlog["in_flight"]["activity"] == CAPACITY  # the worker holds what it said it takes, no more
    assert backlog == store_scheduler.backlog()
    released.set()
    state = store_client.wait_for_orchestration_completion(instance_id, timeout=60)
    assert state is not None and state.serialized_output == str(sum(range(ITEMS)))
    wait_until(lambda: read_backlog(address)["in_flight"] == {"orchestration": 0, "activity": 0, "entity": 0})
    assert read_backlog(address)["pending"] == {"orchestration": 0, "activity": 0, "entity": 0}


def test_backlog_query_fails_plainly_when_no_scheduler_listens() -> None:
    with pytest.raises(grpc.RpcError):
        read_backlog(f"127.0.0.1:{free_port()}", timeout=1)
