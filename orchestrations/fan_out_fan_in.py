"""Fan-out/fan-in: process every work item in parallel, then aggregate, as in the DTS quickstart.

``fan_out_fan_in_orchestrator`` schedules one ``process_work_item`` activity per item, waits for all of
them with ``when_all`` and hands the results to ``aggregate_results``. Each item's result is its square.

CPU-bound work items (off unless set): ``WORK_ITEM_CPU_UNITS`` makes each item do that many units of real
CPU work before its simulated I/O delay; one unit is :data:`CPU_UNIT_HASHES` chained SHA-256 digests of 32
bytes, a fixed amount of work, so a slower core takes longer and the benchmarks show it.

Fault drills (off unless set): ``WORK_ITEM_FAIL_ITEMS`` lists items that always fail and
``WORK_ITEM_FAIL_ONCE_ITEMS`` items whose first attempt in each worker process fails, so the retry policy
and failure reporting can be exercised against a real deployment.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import threading
import time
from datetime import timedelta
from typing import Any, ClassVar, Self, TypedDict

from durabletask import task
from pydantic import Field, model_validator

from durable_app.registry import workflows
from durable_app.request_models import FieldError, Number, StartRequest
from durable_app.settings import SettingsError, non_negative_float, non_negative_int
from durable_app.telemetry import ATTR_WORK_ITEM, annotate, orchestration_logger

logger = logging.getLogger(__name__)

WorkItem = int | float


class WorkItemResult(TypedDict):
    item: WorkItem
    result: WorkItem


class Aggregate(TypedDict):
    total_items: int
    sum: WorkItem
    average: float


MAX_FAN_OUT_ITEMS = 5000
"""The largest fan-out one request may start; larger jobs should be split into several orchestrations."""

DEFAULT_FAN_OUT_COUNT = 10
"""Items 1..10 when a request names neither items nor a count, as the seed's client does."""


class FanOutRequest(StartRequest):
    """A JSON array of numbers, ``{"items": [...]}``, or ``{"count": n}`` for items 1..n (10 when neither)."""

    shorthand: ClassVar[str] = "items"

    items: list[Number] | None = Field(None, max_length=MAX_FAN_OUT_ITEMS, description="The work items.")
    count: int | None = Field(None, ge=0, le=MAX_FAN_OUT_ITEMS, description="Items 1..count instead of a list.")

    @model_validator(mode="after")
    def _items_or_count(self) -> Self:
        if self.items is not None and self.count is not None:
            raise FieldError("items", 'give either "items" or "count", not both')
        return self

    def orchestration_input(self) -> list[WorkItem]:
        if self.items is not None:
            return self.items
        return list(range(1, (DEFAULT_FAN_OUT_COUNT if self.count is None else self.count) + 1))

    def work_items(self) -> int:
        return len(self.orchestration_input())


WORK_ITEM_RETRY = task.RetryPolicy(
    first_retry_interval=timedelta(seconds=1),
    max_number_of_attempts=3,
    backoff_coefficient=2.0,
)
"""Transient failures of a work item are retried; a permanent one fails the orchestration, naming it."""


@workflows.orchestrator(request=FanOutRequest)
def fan_out_fan_in_orchestrator(ctx: task.OrchestrationContext, work_items: list[WorkItem] | None) -> Aggregate:
    """Fan out one activity per work item, wait for all, then fan in to one aggregate."""
    log = orchestration_logger(ctx, logger)  # replay-safe, in the orchestration's trace
    items = work_items or []
    log.info("Starting fan out/fan in orchestration with %d items", len(items))

    parallel_tasks = [ctx.call_activity(process_work_item, input=item, retry_policy=WORK_ITEM_RETRY) for item in items]
    results: list[WorkItemResult] = []
    if parallel_tasks:  # when_all over no tasks never completes in durabletask 1.12
        log.info("Waiting for %d parallel tasks to complete", len(parallel_tasks))
        results = yield task.when_all(parallel_tasks)

    log.info("All parallel tasks completed, aggregating results")
    final_result: Aggregate = yield ctx.call_activity(aggregate_results, input=results)
    return final_result


@workflows.activity
def process_work_item(ctx: task.ActivityContext, item: WorkItem) -> WorkItemResult:
    """Square one work item after its CPU work (``WORK_ITEM_CPU_UNITS``) and I/O delay (``WORK_ITEM_DELAY_*``)."""
    if isinstance(item, bool) or not isinstance(item, int | float):
        raise TypeError(f"work item {item!r} is not a number")
    annotate({ATTR_WORK_ITEM: item})
    inject_faults(item)
    burn_cpu(work_item_cpu_units())
    low, high = work_item_delay_range()
    delay = random.uniform(low, high)
    logger.debug("Processing work item: %s (%.2fs)", item, delay)
    if delay:
        time.sleep(delay)
    return {"item": item, "result": item * item}


@workflows.activity
def aggregate_results(ctx: task.ActivityContext, results: list[WorkItemResult]) -> Aggregate:
    """Fan in: count, sum and average of the per-item results; zeros for an empty fan-out."""
    logger.info("Aggregating results from %d items", len(results))
    values: list[Any] = [result["result"] for result in results]
    total = sum(values)
    return {
        "total_items": len(values),
        "sum": total,
        "average": total / len(values) if values else 0,
    }


def work_item_delay_range() -> tuple[float, float]:
    """The seed's 0.5-2 s range by default; ``0`` for both makes work items instant (tests, benchmarks)."""
    low = non_negative_float(os.environ, "WORK_ITEM_DELAY_MIN_SECONDS", 0.5)
    high = non_negative_float(os.environ, "WORK_ITEM_DELAY_MAX_SECONDS", 2.0)
    return low, max(low, high)


CPU_UNIT_HASHES = 1000
"""SHA-256 digests in one unit of ``WORK_ITEM_CPU_UNITS``: about 1 ms of one core (0.8 ms on the AMD EPYC VM the
benchmarks ran on; ``make bench`` measures it on yours)."""


def work_item_cpu_units() -> int:
    """Units of CPU work per work item; 0 (the default) keeps the seed's purely I/O-bound items."""
    return non_negative_int(os.environ, "WORK_ITEM_CPU_UNITS", 0)


def burn_cpu(units: int) -> bytes:
    """Chain ``units`` x :data:`CPU_UNIT_HASHES` SHA-256 digests, each over the last one.

    Each digest needs the one before, so the work cannot be skipped or spread over threads, and 32-byte inputs
    are below the size at which ``hashlib`` releases the GIL: like most Python CPU work, it holds the GIL.
    """
    digest = bytes(32)
    for _ in range(units * CPU_UNIT_HASHES):
        digest = hashlib.sha256(digest).digest()
    return digest


class InjectedFault(RuntimeError):
    """A work item failed because a ``WORK_ITEM_FAIL_*`` setting asked it to."""


_failed_once: set[WorkItem] = set()
_failed_once_lock = threading.Lock()


def inject_faults(item: WorkItem) -> None:
    """Fail ``item`` if a fault-drill setting names it: always, or on its first attempt in this process."""
    if item in _items_setting("WORK_ITEM_FAIL_ITEMS"):
        raise InjectedFault(f"work item {item} failed (WORK_ITEM_FAIL_ITEMS)")
    if item in _items_setting("WORK_ITEM_FAIL_ONCE_ITEMS"):
        with _failed_once_lock:
            first_attempt = item not in _failed_once
            _failed_once.add(item)
        if first_attempt:
            raise InjectedFault(f"work item {item} failed once (WORK_ITEM_FAIL_ONCE_ITEMS)")


def _items_setting(name: str) -> set[float]:
    """A comma-separated list of numbers; ``3`` matches the work items ``3`` and ``3.0``."""
    tokens = [token.strip() for token in os.environ.get(name, "").split(",") if token.strip()]
    try:
        return {float(token) for token in tokens}
    except ValueError:
        raise SettingsError(f"{name}: '{os.environ[name]}' is not a comma-separated list of numbers") from None
