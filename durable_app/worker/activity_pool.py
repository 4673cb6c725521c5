"""The hosted worker's thread pool: as many threads as the work needs, up to ``DTS_MAX_ACTIVITY_THREADS``.

``durabletask`` runs every activity, orchestration replay and entity batch on one ``ThreadPoolExecutor``,
which starts a new thread whenever none is idle at a submit. A burst of short work items (a zero-delay
fan-out) therefore wakes all 100 threads the app allows for I/O-bound activities, and 100 threads taking
turns at the GIL for microseconds of work each lose to the SDK's default six (``make bench``, row 1).

:class:`ElasticThreadPool` keeps the SDK's default number of threads and adds more only when the pool
stalls: work is waiting and no thread has started an item for :data:`STALL_SECONDS`, i.e. every thread is
blocked (sleeping on I/O, or a long replay). The seed's 0.5-2 s work items then have their 100 threads
within a few tens of milliseconds; short items never wake more than the default.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from durabletask.worker import TaskHubGrpcWorker

STALL_SECONDS = 0.05
"""How long waiting work may see no thread start an item before the pool adds threads for it."""

CORE_THREADS = (os.cpu_count() or 1) + 4
"""Threads the pool starts as work arrives, as the SDK's default pool does (cpu + 4)."""


class ElasticThreadPool(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` that grows past ``core`` threads only while its work is stalled."""

    def __init__(self, max_workers: int, core: int = CORE_THREADS, stall_seconds: float = STALL_SECONDS) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="DurableTask")
        self._core = min(core, max_workers)
        self._stall_seconds = stall_seconds
        self._last_start = time.monotonic()
        self._closed = threading.Event()
        threading.Thread(target=self._watch, name="DurableTask-pool-growth", daemon=True).start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(self._started, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._closed.set()
        super().shutdown(wait=wait, cancel_futures=cancel_futures)

    @property
    def threads(self) -> int:
        """Threads started so far."""
        return len(self._threads)

    def _started(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self._last_start = time.monotonic()
        return fn(*args, **kwargs)

    def _adjust_thread_count(self) -> None:
        """At a submit: a new thread below ``core``; beyond it, only an idle thread (the watcher grows it)."""
        if len(self._threads) < self._core:
            super()._adjust_thread_count()
        else:
            self._idle_semaphore.acquire(timeout=0)  # keeps CPython's count of idle threads right

    def _watch(self) -> None:
        while not self._closed.wait(self._stall_seconds / 2):
            waiting = self._work_queue.qsize()
            if waiting and time.monotonic() - self._last_start >= self._stall_seconds:
                self._grow(waiting)

    def _grow(self, waiting: int) -> None:
        """One thread per waiting item, up to ``max_workers``."""
        with self._shutdown_lock:
            if self._shutdown:
                return
            for _ in range(min(waiting, self._max_workers - len(self._threads))):
                super()._adjust_thread_count()


def use_elastic_pool(worker: TaskHubGrpcWorker, max_workers: int) -> None:
    """Run ``worker``'s work items on an :class:`ElasticThreadPool`, now and whenever the SDK makes a new pool.

    ``durabletask`` 1.12 keeps its pool in the private ``_AsyncWorkerManager`` and re-creates it after each
    stop through ``_create_thread_pool``; ``tests/unit/test_activity_pool.py`` fails if either moves.
    """
    manager = worker._async_worker_manager
    manager.thread_pool.shutdown(wait=False)
    manager._create_thread_pool = lambda: ElasticThreadPool(max_workers)
    manager.thread_pool = manager._create_thread_pool()
