"""``monitor_workflow``: the monitor pattern. Check a condition on an interval until it holds or rounds run out.

Each round an activity reads a counter (an external system, as the monitor sees it) and the instance
compares it with the target, records the round in its custom status, sleeps on a durable timer and
continues as new: its history holds one round at a time however long it watches. It stops when the counter
reaches the target or after ``max_rounds`` checks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal, TypedDict

from durabletask import task
from durabletask.entities import EntityInstanceId
from pydantic import Field

from durable_app.workflows import Amount, Key, StartRequest, shared_sync_client, workflows


class MonitorRequest(StartRequest):
    """Watch counter ``entity_key`` until its value is at least ``target``."""

    entity_key: Key
    target: Amount
    interval_seconds: float = Field(5, gt=0, le=24 * 3600, description="Seconds between two checks.")
    max_rounds: int = Field(10, ge=1, le=10_000, description="Checks before the monitor gives up.")
    rounds_done: int = Field(0, ge=0, description="Checks already made; the monitor sets it as it continues as new.")


class MonitorResult(TypedDict):
    entity_key: str
    outcome: Literal["reached", "gave_up"]
    rounds: int
    value: int | None


@workflows.orchestrator(request=MonitorRequest)
def monitor_workflow(ctx: task.OrchestrationContext, request: MonitorRequest) -> Any:
    """One check per generation; continue as new until the target is reached or the rounds are spent."""
    value: int | None = yield ctx.call_activity(read_counter, input=request.entity_key)
    rounds = request.rounds_done + 1
    reached = value is not None and value >= request.target
    ctx.set_custom_status({"round": rounds, "value": value, "target": request.target, "reached": reached})
    if reached or rounds >= request.max_rounds:
        result: MonitorResult = {
            "entity_key": request.entity_key,
            "outcome": "reached" if reached else "gave_up",
            "rounds": rounds,
            "value": value,
        }
        return result
    yield ctx.create_timer(timedelta(seconds=request.interval_seconds))
    ctx.continue_as_new(request.model_copy(update={"rounds_done": rounds}).model_dump(mode="json"))
    return None


@workflows.activity
def read_counter(ctx: task.ActivityContext, entity_key: str) -> int | None:
    """The counter's value as a client outside the orchestration sees it; ``None`` before its first operation."""
    metadata = shared_sync_client().get_entity(EntityInstanceId("counter", entity_key))
    if metadata is None or metadata.get_state() is None:
        return None
    return metadata.get_typed_state(int)
