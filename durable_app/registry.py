"""The one list of everything the worker hosts.

The hosted worker, the local stack's tests and the benchmarks all register from here, so an orchestrator,
activity or entity cannot be hosted in one place and forgotten in another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from entities.counter import counter
from orchestrations.counter_workflow import counter_workflow
from orchestrations.fan_out_fan_in import (
    aggregate_results,
    fan_out_fan_in_orchestrator,
    process_work_item,
)

ORCHESTRATORS: tuple[Callable[..., Any], ...] = (fan_out_fan_in_orchestrator, counter_workflow)
ACTIVITIES: tuple[Callable[..., Any], ...] = (process_work_item, aggregate_results)
ENTITIES: tuple[Callable[..., Any], ...] = (counter,)


class Registrar(Protocol):
    """What a ``durabletask`` worker offers for registration."""

    def add_orchestrator(self, fn: Any) -> str: ...
    def add_activity(self, fn: Any) -> str: ...
    def add_entity(self, fn: Any, name: str | None = None) -> str: ...


def register_all(worker: Registrar) -> list[str]:
    """Register every orchestrator, activity and entity on ``worker``; return the names registered."""
    names = [worker.add_orchestrator(fn) for fn in ORCHESTRATORS]
    names += [worker.add_activity(fn) for fn in ACTIVITIES]
    names += [worker.add_entity(fn) for fn in ENTITIES]
    return names
