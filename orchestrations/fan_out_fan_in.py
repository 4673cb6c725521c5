"""Fan-out/fan-in: process every work item in parallel, then aggregate, as in the DTS quickstart.

``fan_out_fan_in_orchestrator`` schedules one ``process_work_item`` activity per item, waits for all of
them with ``when_all`` and hands the results to ``aggregate_results``. Each item's result is its square, after
a simulated I/O delay of 0.5-2 s as in the seed (``WORK_ITEM_DELAY_*``, read at startup). Benchmarks and fault
tests add CPU work and failures around the activity with ``durable_app.worker.drills``.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta
from typing import Any, ClassVar, Self, TypedDict

from durabletask import task
from pydantic import Field, model_validator

from durable_app.workflows import (
    ATTR_WORK_ITEM,
    FieldError,
    Number,
    RetryRule,
    StartRequest,
    annotate,
    app_settings,
    call_activity,
    orchestration_logger,
    workflows,
)

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


TRANSIENT_FAILURES = RetryRule(
    retry_on=(ConnectionError, TimeoutError),
    attempts=3,
    first_interval=timedelta(seconds=1),
    backoff=2.0,
)
"""A work item that lost its connection or timed out is tried again, up to 3 times; any other failure (a bad
item) fails the orchestration at once, naming it."""


@workflows.orchestrator(request=FanOutRequest)
def fan_out_fan_in_orchestrator(ctx: task.OrchestrationContext, work_items: list[WorkItem] | None) -> Aggregate:
    """Fan out one activity per work item, wait for all, then fan in to one aggregate."""
    log = orchestration_logger(ctx, logger)  # replay-safe, in the orchestration's trace
    items = work_items or []
    log.info("Starting fan out/fan in orchestration with %d items", len(items))

    parallel_tasks = [call_activity(ctx, process_work_item, input=item) for item in items]
    results: list[WorkItemResult] = []
    if parallel_tasks:  # when_all over no tasks never completes in durabletask 1.12
        log.info("Waiting for %d parallel tasks to complete", len(parallel_tasks))
        results = yield task.when_all(parallel_tasks)

    log.info("All parallel tasks completed, aggregating results")
    final_result: Aggregate = yield ctx.call_activity(aggregate_results, input=results)
    return final_result


@workflows.activity(retry=TRANSIENT_FAILURES)
def process_work_item(ctx: task.ActivityContext, item: WorkItem) -> WorkItemResult:
    """Square one work item after its simulated I/O delay (``WORK_ITEM_DELAY_*``: 0.5-2 s, as in the seed)."""
    if isinstance(item, bool) or not isinstance(item, int | float):
        raise TypeError(f"work item {item!r} is not a number")
    annotate({ATTR_WORK_ITEM: item})
    low, high = app_settings().work_item_delay
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
