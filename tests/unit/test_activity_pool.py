"""The hosted worker's elastic thread pool: short work stays on the core threads, blocked work gets more."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from durabletask.worker import ConcurrencyOptions, TaskHubGrpcWorker

from durable_app.worker.activity_pool import ElasticThreadPool, use_elastic_pool
from tests.helpers.polling import wait_until


@pytest.fixture
def pool() -> Iterator[ElasticThreadPool]:
    executor = ElasticThreadPool(max_workers=40, core=3)
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


def test_a_burst_of_short_items_runs_on_the_core_threads() -> None:
    pool = ElasticThreadPool(max_workers=40, core=3, stall_seconds=60)  # no stall on a loaded machine either
    names = [pool.submit(lambda number: (number * number, threading.current_thread().name), n) for n in range(2000)]
    results = [future.result(timeout=30) for future in names]
    assert [square for square, _ in results] == [n * n for n in range(2000)]
    assert pool.threads <= 3
    assert len({name for _, name in results}) <= 3
    pool.shutdown()


def test_blocked_items_get_a_thread_each_up_to_the_maximum(pool: ElasticThreadPool) -> None:
    release = threading.Event()
    running = threading.Semaphore(0)

    def blocked() -> None:
        running.release()
        release.wait(30)

    futures = [pool.submit(blocked) for _ in range(60)]
    wait_until(lambda: running._value >= 40, message="the pool never grew to its maximum of 40 threads")
    assert pool.threads == 40
    release.set()
    for future in futures:
        future.result(timeout=30)
    assert running._value == 60  # the 20 beyond the maximum ran once threads were free


def test_the_pool_refuses_work_after_shutdown() -> None:
    executor = ElasticThreadPool(max_workers=4, core=2)
    executor.shutdown()
    with pytest.raises(RuntimeError, match="shutdown"):
        executor.submit(print)


def test_the_sdk_worker_runs_on_the_elastic_pool_now_and_after_each_new_pool() -> None:
    worker = TaskHubGrpcWorker(concurrency_options=ConcurrencyOptions(maximum_thread_pool_workers=25))
    use_elastic_pool(worker, 25)
    manager = worker._async_worker_manager
    assert isinstance(manager.thread_pool, ElasticThreadPool)
    assert manager.thread_pool._max_workers == 25
    manager.thread_pool.shutdown()
    manager._pool_is_shutdown = True
    manager._ensure_thread_pool()  # what the SDK does when it runs again after a stop
    assert isinstance(manager.thread_pool, ElasticThreadPool)
    manager.thread_pool.shutdown()
