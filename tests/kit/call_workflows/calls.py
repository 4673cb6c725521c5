"""Orchestrators that exercise retry rules and timeouts; each activity's behaviour is a fake the test gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from durabletask import task

from durable_app.workflows import RetryRule, WorkflowTimeoutError, call_activity, call_sub_orchestrator, within
from durable_app.workflows.registry import Workflows

call_workflows = Workflows(packages=("tests.kit.call_workflows",))

CONNECTION_RULE = RetryRule(retry_on=(ConnectionError,), attempts=3, first_interval=timedelta(minutes=1))
"""The declared rule of ``flaky``: connection failures, 3 attempts, a minute apart then two."""


@call_workflows.activity(retry=CONNECTION_RULE)
def flaky(ctx: task.ActivityContext, value: Any) -> Any:
    """Replaced by each test's fake."""
    return value


@call_workflows.activity
def steady(ctx: task.ActivityContext, value: Any) -> Any:
    """Replaced by each test's fake."""
    return value


@call_workflows.orchestrator
def declared_retry(ctx: task.OrchestrationContext, value: Any) -> Any:
    """One call under the activity's declared rule."""
    return (yield call_activity(ctx, flaky, input=value))


@call_workflows.orchestrator
def own_retry(ctx: task.OrchestrationContext, rule: dict[str, Any]) -> Any:
    """Calls of ``steady`` under a rule the input describes, fanned out: a list of the results and durable times."""
    own = RetryRule(
        retry_on=tuple(rule["retry_on"]),
        attempts=rule["attempts"],
        first_interval=timedelta(minutes=rule["first_minutes"]),
        backoff=rule.get("backoff", 2.0),
        max_interval=timedelta(minutes=rule["max_minutes"]) if "max_minutes" in rule else None,
        total_timeout=timedelta(minutes=rule["total_minutes"]) if "total_minutes" in rule else None,
    )
    started = ctx.current_utc_datetime
    results = yield task.when_all([call_activity(ctx, steady, input=item, retry=own) for item in rule["items"]])
    return {"results": results, "minutes": (ctx.current_utc_datetime - started) / timedelta(minutes=1)}


@call_workflows.orchestrator
def child(ctx: task.OrchestrationContext, value: Any) -> Any:
    """Fails as its activity says: the activity returns the exception name to raise, or the value to return."""
    outcome = yield ctx.call_activity(steady, input=value)
    if outcome == "ConnectionError":
        raise ConnectionError("child lost its connection")
    if outcome == "ValueError":
        raise ValueError("child got a bad value")
    return outcome


@call_workflows.orchestrator
def parent(ctx: task.OrchestrationContext, value: Any) -> Any:
    """The child under a connection-failure rule, with a fixed child id."""
    rule = RetryRule(retry_on=("ConnectionError",), attempts=3, first_interval=timedelta(seconds=30))
    return (yield call_sub_orchestrator(ctx, child, input=value, instance_id=f"{ctx.instance_id}-child", retry=rule))


@call_workflows.orchestrator
def timed(ctx: task.OrchestrationContext, kind: str) -> Any:
    """Wait for one kind of task for ten minutes; after a timeout, wait for ``done`` and report what timed out."""
    work = {
        "activity": lambda: ctx.call_activity(steady, input="slow"),
        "event": lambda: ctx.wait_for_external_event("answer"),
        "sub_orchestration": lambda: ctx.call_sub_orchestrator(waits_forever, instance_id=f"{ctx.instance_id}-sub"),
        "entity": lambda: ctx.call_entity(task.EntityInstanceId("tally", ctx.instance_id), "get"),
    }[kind]()
    try:
        result = yield within(ctx, work, timedelta(minutes=10), f"the {kind}")
    except WorkflowTimeoutError as timeout:
        yield ctx.wait_for_external_event("done")
        return {"timed_out": str(timeout), "what": timeout.what}
    return {"result": result}


@call_workflows.orchestrator
def waits_forever(ctx: task.OrchestrationContext, _: Any) -> Any:
    """A sub-orchestration that waits for an event nobody raises."""
    return (yield ctx.wait_for_external_event("never"))


@call_workflows.entity(operations={"get": None})
def tally(ctx: task.EntityContext, _: Any) -> int:
    """An entity whose every read answers 7."""
    return 7


@call_workflows.orchestrator
def versioned(ctx: task.OrchestrationContext, _: Any) -> Any:
    """The path an instance takes by the version it was started under."""
    return {"version": ctx.version, "path": "old" if ctx.version == "1.0.0" else "new"}


@call_workflows.orchestrator
def gives_up(ctx: task.OrchestrationContext, _: Any) -> Any:
    """A wait whose timeout nobody catches."""
    return (yield within(ctx, ctx.wait_for_external_event("never"), timedelta(hours=1), "the never event"))
