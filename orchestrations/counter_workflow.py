"""``counter_workflow``: drive a counter entity from an orchestration, as in the DTS entities sample.

Signals (fire-and-forget) add 10, add 5 and subtract 3, then calls ``get`` (request-response), which the
entity processes after the signals, so a fresh counter reports 12.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from durabletask import entities, task

from durable_app.workflows import Key, StartRequest, orchestration_logger, workflows
from entities.counter import counter

logger = logging.getLogger(__name__)


class CounterWorkflowRequest(StartRequest):
    """The counter's key: ``{"entity_key": "k"}``, the JSON string ``"k"``, or ``?entity_key=k``."""

    shorthand: ClassVar[str] = "entity_key"

    entity_key: Key

    def orchestration_input(self) -> str:
        return self.entity_key


@workflows.orchestrator(request=CounterWorkflowRequest)
def counter_workflow(ctx: task.OrchestrationContext, entity_key: str) -> str:
    """Signal add 10, add 5, subtract 3 on ``counter/<entity_key>``, then return its value."""
    log = orchestration_logger(ctx, logger)  # replay-safe, in the orchestration's trace
    entity_id = entities.EntityInstanceId(counter.__name__, entity_key)

    ctx.signal_entity(entity_id, "add", input=10)
    ctx.signal_entity(entity_id, "add", input=5)
    ctx.signal_entity(entity_id, "subtract", input=3)
    log.info("Signalled counter '%s'; reading its value", entity_key)

    value: int = yield ctx.call_entity(entity_id, "get")
    return f"Counter '{entity_key}' final value: {value}"
