"""The one seam between the local scheduler and ``durabletask``'s in-memory backend.

The scheduler extends ``InMemoryOrchestrationBackend`` (durabletask 1.12), Microsoft's in-process
implementation of the sidecar gRPC protocol, through fields and helpers the SDK keeps private. Every module
of this package takes the backend and its records from here, and this module lists what they rely on, so
``tests/unit/test_backend_seam.py`` can pin the version and check each name: an SDK upgrade that moves
one of them fails that test instead of misbehaving at run time.
"""

from __future__ import annotations

from durabletask.testing.in_memory_backend import (
    ActivityWorkItem,
    EntityState,
    InMemoryOrchestrationBackend,
    OrchestrationInstance,
    PendingLockRequest,
)

__all__ = [
    "BUILT_FOR_DURABLETASK",
    "RELIED_ON_FIELDS",
    "RELIED_ON_METHODS",
    "RELIED_ON_RECORD_FIELDS",
    "ActivityWorkItem",
    "EntityState",
    "InMemoryOrchestrationBackend",
    "OrchestrationInstance",
    "PendingLockRequest",
]

BUILT_FOR_DURABLETASK = "1.12.0"
"""The ``durabletask`` release this package was written against (pinned in requirements.txt)."""

RELIED_ON_FIELDS = (
    "_lock",
    "_instances",
    "_entities",
    "_activity_queue",
    "_orchestration_queue",
    "_orchestration_queue_set",
    "_entity_queue",
    "_orchestration_in_flight",
    "_entity_in_flight",
    "_entity_queue_set",
    "_pending_lock_requests",
    "_state_waiters",
    "_next_completion_token",
    "_work_available",
    "_shutdown_event",
    "_generation",
    "_port",
    "_server",
)
"""Private attributes of a backend instance that the scheduler reads or replaces."""

RELIED_ON_METHODS = (
    "_enqueue_orchestration",
    "_enqueue_entity",
    "_is_terminal_status",
    "_notify_waiters",
    "_queue_entity_operation",
    "_schedule_delayed_entity_operation",
    "_watch_sub_orchestration",
    "_process_schedule_task_action",
    "_process_create_timer_action",
    "_build_instance_response",
    "GetWorkItems",
    "AbandonTaskOrchestratorWorkItem",
)
"""Private helpers (and the stream) the scheduler calls or overrides."""

RELIED_ON_RECORD_FIELDS: dict[type, tuple[str, ...]] = {
    OrchestrationInstance: (
        "instance_id",
        "name",
        "status",
        "version",
        "input",
        "output",
        "custom_status",
        "created_at",
        "last_updated_at",
        "completed_at",
        "failure_details",
        "tags",
        "history",
        "pending_events",
        "dispatched_events",
        "completion_token",
    ),
    EntityState: (
        "instance_id",
        "serialized_state",
        "last_modified_at",
        "locked_by",
        "pending_operations",
        "dispatched_operations",
        "completion_token",
    ),
    ActivityWorkItem: ("instance_id", "name", "task_id", "input", "completion_token", "version"),
    PendingLockRequest: ("critical_section_id", "parent_instance_id", "lock_set"),
}
"""The backend's record types and the fields the scheduler builds, reads or stores."""
