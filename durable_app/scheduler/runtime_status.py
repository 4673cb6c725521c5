"""The one table of runtime status names: the API's answers and filters, its OpenAPI document and the dashboard.

Durable Functions spells statuses ``Running``, ``ContinuedAsNew``...; the SDK's enum spells them
``RUNNING``, ``CONTINUED_AS_NEW``. Every place that shows or reads a status name goes through this table, so
a name is spelled once.
"""

from __future__ import annotations

from durabletask.client import OrchestrationStatus

RUNTIME_STATUS: dict[OrchestrationStatus, str] = {
    OrchestrationStatus.PENDING: "Pending",
    OrchestrationStatus.RUNNING: "Running",
    OrchestrationStatus.COMPLETED: "Completed",
    OrchestrationStatus.FAILED: "Failed",
    OrchestrationStatus.TERMINATED: "Terminated",
    OrchestrationStatus.CONTINUED_AS_NEW: "ContinuedAsNew",
    OrchestrationStatus.SUSPENDED: "Suspended",
}
"""Each SDK status by its Durable Functions name, in the order the API lists them."""

STATUS_BY_NAME: dict[str, OrchestrationStatus] = {name: status for status, name in RUNTIME_STATUS.items()}
"""The names as filters take them, spelled exactly."""

TERMINAL: frozenset[OrchestrationStatus] = frozenset(
    {OrchestrationStatus.COMPLETED, OrchestrationStatus.FAILED, OrchestrationStatus.TERMINATED}
)
"""Statuses an instance never leaves by itself: its output is final and its id may be reused."""

TERMINAL_NAMES: frozenset[str] = frozenset(RUNTIME_STATUS[status] for status in TERMINAL)


def status_name(status: OrchestrationStatus) -> str:
    """``status`` as Durable Functions names it; a status newer than this table shows as the SDK prints it."""
    return RUNTIME_STATUS.get(status, str(status))
