"""``transfer_workflow``: move an amount between two counters inside a critical section (entity locks).

The orchestration locks both counters, reads the source, and subtracts and adds only while it holds the
locks, so no signal or other transfer can change either counter in between: however many transfers and
signals run at once, the sum over the counters changes only by what the signals add. A source holding less
than the amount is left as it is unless ``allow_negative`` is set.
"""

from __future__ import annotations

from typing import Any, Self, TypedDict

from durabletask import task
from durabletask.entities import EntityInstanceId
from pydantic import Field, model_validator

from durable_app.workflows import Amount, FieldError, Key, StartRequest, workflows
from entities.counter import counter


class TransferRequest(StartRequest):
    """Move ``amount`` from counter ``source`` to counter ``destination``."""

    source: Key
    destination: Key
    amount: Amount = Field(description="A positive amount.")
    allow_negative: bool = Field(False, description="Move even when the source holds less than the amount.")

    @model_validator(mode="after")
    def _two_counters_one_positive_amount(self) -> Self:
        if self.destination == self.source:
            raise FieldError("destination", "destination must differ from source")
        if self.amount <= 0:
            raise FieldError("amount", f"amount must be positive, got {self.amount}")
        return self


class TransferResult(TypedDict):
    source: str
    destination: str
    amount: int
    transferred: bool
    source_before: int


@workflows.orchestrator(request=TransferRequest)
def transfer_workflow(ctx: task.OrchestrationContext, request: TransferRequest) -> Any:
    """Lock both counters, check the source, move the amount, release."""
    source = EntityInstanceId(counter.__name__, request.source)
    destination = EntityInstanceId(counter.__name__, request.destination)
    with (yield ctx.lock_entities([source, destination])):
        balance: int = yield ctx.call_entity(source, "get")
        transferred = request.allow_negative or balance >= request.amount
        if transferred:
            yield ctx.call_entity(source, "subtract", input=request.amount)
            yield ctx.call_entity(destination, "add", input=request.amount)
    result: TransferResult = {
        "source": request.source,
        "destination": request.destination,
        "amount": request.amount,
        "transferred": transferred,
        "source_before": balance,
    }
    return result
