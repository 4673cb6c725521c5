"""Work-item drills for benchmarks and fault tests: real CPU work and failures on demand, off unless set.

The production ``process_work_item`` knows nothing of them. When a drill setting is set, the hosted worker
registers that activity wrapped in the drills instead (:func:`with_drills`, decided once, at startup), under
the same name, so the orchestrations, the HTTP API and the public samples' clients drive it unchanged:

- ``WORK_ITEM_CPU_UNITS``: each item first does that many units of real CPU work; one unit is
  :data:`CPU_UNIT_HASHES` chained SHA-256 digests of 32 bytes, a fixed amount of work, so a slower core takes
  longer and the benchmarks show it.
- ``WORK_ITEM_FAIL_ITEMS`` / ``WORK_ITEM_FAIL_ONCE_ITEMS``: items that always fail, or whose first attempt in
  each worker process fails, so the retry policy and failure reporting can be exercised against a deployment.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable
from typing import Any

from durable_app.settings import WorkItemDrills
from durable_app.settings.catalog import FAIL_ITEMS, FAIL_ONCE_ITEMS
from durable_app.telemetry import ATTR_WORK_ITEM, annotate
from durable_app.workflows.registry import Registrar

WORK_ITEM_ACTIVITY = "process_work_item"
"""The activity the drills wrap: the fan-out's work item, named as in the public sample."""

CPU_UNIT_HASHES = 1000
"""SHA-256 digests in one unit of ``WORK_ITEM_CPU_UNITS``: about 1 ms of one core (0.8 ms on the AMD EPYC VM the
benchmarks ran on; ``make bench`` measures it on yours)."""


class InjectedFault(ConnectionError):
    """A work item failed because a ``WORK_ITEM_FAIL_*`` setting asked it to: a transient fault, of the kind the
    fan-out's retry rule retries (``TRANSIENT_FAILURES`` in ``orchestrations/fan_out_fan_in.py``)."""


def burn_cpu(units: int) -> bytes:
    """Chain ``units`` x :data:`CPU_UNIT_HASHES` SHA-256 digests, each over the last one.

    Each digest needs the one before, so the work cannot be skipped or spread over threads, and 32-byte inputs
    are below the size at which ``hashlib`` releases the GIL: like most Python CPU work, it holds the GIL.
    """
    digest = bytes(32)
    for _ in range(units * CPU_UNIT_HASHES):
        digest = hashlib.sha256(digest).digest()
    return digest


Activity = Callable[[Any, Any], Any]


def drilled(activity: Activity, drills: WorkItemDrills) -> Activity:
    """``activity`` under its own name, after the drills: the faults first, then the CPU work.

    Only numbers are drilled; anything else goes straight to the activity, which refuses it in its own words.
    The failed-once record lives as long as the wrapper, i.e. one worker process.
    """
    failed_once: set[float] = set()
    lock = threading.Lock()

    def inject_faults(item: float) -> None:
        if item in drills.fail_items:
            raise InjectedFault(f"work item {item} failed ({FAIL_ITEMS.name})")
        if item in drills.fail_once_items:
            with lock:
                first_attempt = item not in failed_once
                failed_once.add(item)
            if first_attempt:
                raise InjectedFault(f"work item {item} failed once ({FAIL_ONCE_ITEMS.name})")

    @functools.wraps(activity)
    def drilled_activity(ctx: Any, item: Any) -> Any:
        if isinstance(item, int | float) and not isinstance(item, bool):
            annotate({ATTR_WORK_ITEM: item})  # a failed attempt's span still names its item
            inject_faults(item)
            burn_cpu(drills.cpu_units)
        return activity(ctx, item)

    return drilled_activity


class DrillingRegistrar:
    """Registers everything on ``worker`` as given, but the work-item activity wrapped in the drills."""

    def __init__(self, worker: Registrar, drills: WorkItemDrills) -> None:
        self._worker = worker
        self._drills = drills

    def add_orchestrator(self, fn: Any) -> str:
        return self._worker.add_orchestrator(fn)

    def add_activity(self, fn: Any) -> str:
        if fn.__name__ == WORK_ITEM_ACTIVITY:
            fn = drilled(fn, self._drills)
        return self._worker.add_activity(fn)

    def add_entity(self, fn: Any, name: str | None = None) -> str:
        return self._worker.add_entity(fn, name=name)


def with_drills(worker: Registrar, drills: WorkItemDrills) -> Registrar:
    """What the worker registers through: itself, or a :class:`DrillingRegistrar` when a drill is on."""
    return DrillingRegistrar(worker, drills) if drills.enabled else worker
