"""``chunked_fan_out``: a large fan-out as sub-orchestrations of ``fan_out_fan_in_orchestrator``, one per chunk.

Each chunk runs as its own instance (``<id>-chunk-<n>``), so no one history holds every work item, and the
parent aggregates the chunks' aggregates. A chunk that fails fails the parent, naming the chunk and its items.
"""

from __future__ import annotations

from typing import Any, Self

from durabletask import task
from pydantic import Field, model_validator

from durable_app.workflows import FieldError, Number, StartRequest, workflows
from orchestrations.fan_out_fan_in import MAX_FAN_OUT_ITEMS, Aggregate, WorkItem, fan_out_fan_in_orchestrator

MAX_CHUNKED_ITEMS = 50_000
"""The most work items one chunked fan-out takes."""


class ChunkedFanOutRequest(StartRequest):
    """The work items and how many of them each sub-orchestration processes."""

    items: list[Number] = Field(max_length=MAX_CHUNKED_ITEMS, description="The work items.")
    chunk_size: int = Field(100, ge=1, le=MAX_FAN_OUT_ITEMS, description="Work items per sub-orchestration.")

    @model_validator(mode="after")
    def _not_too_many_chunks(self) -> Self:
        if len(self.items) > 1000 * self.chunk_size:
            raise FieldError("chunk_size", "chunk_size gives more than 1000 chunks; make it larger")
        return self

    def work_items(self) -> int:
        return len(self.items)


class ChunkFailed(RuntimeError):
    """A chunk's sub-orchestration failed."""


@workflows.orchestrator(request=ChunkedFanOutRequest)
def chunked_fan_out(ctx: task.OrchestrationContext, request: ChunkedFanOutRequest) -> Any:
    """Run each chunk as a ``fan_out_fan_in_orchestrator`` sub-orchestration, then combine their aggregates."""
    chunks = [
        request.items[start : start + request.chunk_size] for start in range(0, len(request.items), request.chunk_size)
    ]
    children = [
        ctx.call_sub_orchestrator(
            fan_out_fan_in_orchestrator, input=chunk, instance_id=f"{ctx.instance_id}-chunk-{index}"
        )
        for index, chunk in enumerate(chunks)
    ]
    aggregates: list[Aggregate] = []
    if children:  # when_all over no tasks never completes in durabletask 1.12
        try:
            aggregates = yield task.when_all(children)
        except task.TaskFailedError:
            raise _first_failure(children, chunks) from None
    return combine(aggregates)


def combine(aggregates: list[Aggregate]) -> Aggregate:
    """The aggregate of all items from the aggregates of their chunks."""
    total_items = sum(aggregate["total_items"] for aggregate in aggregates)
    total: WorkItem = sum(aggregate["sum"] for aggregate in aggregates)
    return {"total_items": total_items, "sum": total, "average": total / total_items if total_items else 0}


def _first_failure(children: list[task.Task[Any]], chunks: list[list[WorkItem]]) -> ChunkFailed:
    for index, (child, chunk) in enumerate(zip(children, chunks, strict=True)):
        if child.is_failed:
            cause = child.get_exception()
            return ChunkFailed(f"chunk {index} (items {chunk[0]}..{chunk[-1]}, {len(chunk)} items) failed: {cause}")
    return ChunkFailed("a chunk failed")
