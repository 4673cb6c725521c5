"""The ``counter`` entity: a durable integer, as in the DTS entities sample.

Operations: ``add(int)``, ``subtract(int)``, ``get() -> int``, ``reset()``. The state defaults to 0. Bad
input raises before the state is touched, and the worker rolls the operation back, so a failed operation
never corrupts the count.
"""

from __future__ import annotations

import logging

from durabletask import entities

from durable_app.workflows import Amount, workflows

logger = logging.getLogger(__name__)

COUNTER_OPERATIONS = ("add", "subtract", "get", "reset")
"""Every operation the entity understands; ``get`` is a read, so only the others are declared as signals."""


@workflows.entity(operations={"add": Amount, "subtract": Amount, "reset": None})
def counter(ctx: entities.EntityContext, input: int | None) -> int | None:
    """Apply one operation to the counter and return the value for ``get``."""
    state = ctx.get_state(int, 0)
    operation = ctx.operation
    if operation == "add":
        state += require_amount(input, operation)
    elif operation == "subtract":
        state -= require_amount(input, operation)
    elif operation == "reset":
        state = 0
    elif operation == "get":
        return state
    else:
        raise ValueError(f"counter has no operation '{operation}'; expected one of {', '.join(COUNTER_OPERATIONS)}")
    ctx.set_state(state)
    logger.debug("%s: %s(%s) -> %d", ctx.orchestration_id, operation, input, state)
    return None


def require_amount(value: object, operation: str) -> int:
    """The amount for ``add``/``subtract``: an integer, never a bool, float or string."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"counter '{operation}' needs an integer amount, got {value!r}")
    return value
