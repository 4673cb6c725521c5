"""``approval_workflow``: human interaction. Wait for a decision or a deadline, whichever comes first.

The instance waits for the external event ``approval`` (``{"approved": true|false}``, raised with
``POST /api/instances/{id}/raiseEvent/approval``) against a durable timer of ``timeout_seconds``. While it
waits, its custom status says so and until when (``deadline``, with its UTC offset); an event that is not a
decision is noted there and the wait goes on. The output says ``approved``, ``rejected`` or ``timed_out``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal, TypedDict

from durabletask import task
from pydantic import BaseModel, Field, ValidationError

from durable_app.workflows import StartRequest, WorkflowTimeoutError, utc_iso, within, workflows

APPROVAL_EVENT = "approval"

Outcome = Literal["approved", "rejected", "timed_out"]


class ApprovalRequest(StartRequest):
    """What is to be approved, and how long to wait for a decision."""

    subject: str = Field("request", min_length=1, max_length=200, description="What the decision is about.")
    timeout_seconds: float = Field(3600, gt=0, le=30 * 24 * 3600, description="How long to wait for a decision.")


class Decision(BaseModel):
    """The data of the ``approval`` event."""

    approved: bool


class ApprovalResult(TypedDict):
    subject: str
    outcome: Outcome


@workflows.orchestrator(request=ApprovalRequest)
def approval_workflow(ctx: task.OrchestrationContext, request: ApprovalRequest) -> Any:
    """Wait for the ``approval`` event or the deadline, whichever comes first."""
    deadline = ctx.current_utc_datetime + timedelta(seconds=request.timeout_seconds)
    timer = ctx.create_timer(deadline)
    ctx.set_custom_status({"state": "waiting", "subject": request.subject, "deadline": utc_iso(deadline)})
    while True:
        waiting = within(ctx, ctx.wait_for_external_event(APPROVAL_EVENT), deadline, "the approval event", timer=timer)
        try:
            data = yield waiting
        except WorkflowTimeoutError:
            return _finish(ctx, request, "timed_out")
        decision = _decision(data)
        if decision is not None:
            return _finish(ctx, request, "approved" if decision.approved else "rejected")
        ctx.set_custom_status(
            {
                "state": "waiting",
                "subject": request.subject,
                "deadline": utc_iso(deadline),
                "ignored": 'an approval event without {"approved": true|false}',
            }
        )


def _decision(data: Any) -> Decision | None:
    try:
        return Decision.model_validate(data, strict=True)
    except ValidationError:
        return None


def _finish(ctx: task.OrchestrationContext, request: ApprovalRequest, outcome: Outcome) -> ApprovalResult:
    ctx.set_custom_status({"state": outcome, "subject": request.subject})
    return {"subject": request.subject, "outcome": outcome}
