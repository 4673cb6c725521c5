"""Send a batch of scheduler calls concurrently, in order per key, and account for every entry.

A batch request's entries go to the scheduler over the process's one shared client, at most
``MAX_IN_FLIGHT`` calls at a time so that one request neither serializes N round trips nor floods the channel.
Entries that share an ordering key (a counter's key) are sent one after another, each once the previous one is
acknowledged, so the counter applies them in the order given. Signals such as ``add`` are not idempotent, so
a failure never leaves the caller guessing: every entry ends in exactly one of

- ``queued``: acknowledged by the scheduler;
- ``failed``: certainly not queued (the scheduler refused it, or it was never sent because an earlier entry
  failed: the batch sends nothing new after its first failure);
- ``uncertain``: sent, but the connection failed before an answer, so it may or may not have been queued.

Within one key the queued entries are always the first ones, so resending the rest in order keeps the order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import grpc

logger = logging.getLogger(__name__)

MAX_IN_FLIGHT = 64
"""Scheduler calls one batch request keeps in flight; the bench's batch rows show the rate levels off by here."""

_UNCERTAIN = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
}
"""Codes a broken connection gives: the call may have reached the scheduler before it broke."""

Call = Callable[[], Awaitable[object]]


@dataclass
class BatchOutcome:
    """Where each entry of a batch ended, by index; ``error`` is the first failure, if any."""

    queued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    uncertain: list[int] = field(default_factory=list)
    error: BaseException | None = None
    error_index: int | None = None

    def lists(self) -> dict[str, list[int]]:
        return {"queued": sorted(self.queued), "failed": sorted(self.failed), "uncertain": sorted(self.uncertain)}


async def send_batch(calls: Sequence[Call], keys: Sequence[str] | None = None) -> BatchOutcome:
    """Run ``calls`` with at most ``MAX_IN_FLIGHT`` at once; calls with equal ``keys`` run in index order."""
    chains: dict[str, list[int]] = {}
    for index in range(len(calls)):
        chains.setdefault(keys[index] if keys is not None else str(index), []).append(index)
    outcome = BatchOutcome()
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def run_chain(indexes: list[int]) -> None:
        for index in indexes:
            if outcome.error is not None:
                outcome.failed.append(index)
                continue
            async with slots:
                if outcome.error is not None:
                    outcome.failed.append(index)
                    continue
                try:
                    await calls[index]()
                except Exception as error:  # every entry must be accounted for, whatever went wrong
                    _record_failure(outcome, index, error)
                    continue
            outcome.queued.append(index)

    await asyncio.gather(*(run_chain(indexes) for indexes in chains.values()))
    return outcome


def _record_failure(outcome: BatchOutcome, index: int, error: Exception) -> None:
    if isinstance(error, grpc.aio.AioRpcError) and error.code() not in _UNCERTAIN:
        outcome.failed.append(index)
    else:
        outcome.uncertain.append(index)
    if outcome.error is None:
        outcome.error, outcome.error_index = error, index
        if not isinstance(error, grpc.aio.AioRpcError):
            logger.error("Batch entry %d failed unexpectedly", index, exc_info=error)
