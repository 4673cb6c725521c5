"""``timeline``: timers of the given lengths, started at once, and the durable time each one was seen at."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from durabletask import task

from durable_app.workflows.registry import Workflows

clock_workflows = Workflows(packages=("tests.kit.clock_workflows",))


@clock_workflows.orchestrator
def timeline(ctx: task.OrchestrationContext, hours: list[float]) -> Any:
    """Wait for each timer in turn of completion; return the order they fired in and the time seen after each."""
    started = ctx.current_utc_datetime
    timers = {ctx.create_timer(timedelta(hours=length)): index for index, length in enumerate(hours)}
    fired: list[dict[str, Any]] = []
    pending = list(timers)
    while pending:
        winner = yield task.when_any(pending)
        pending.remove(winner)
        fired.append(
            {"timer": timers[winner], "hours_later": (ctx.current_utc_datetime - started) / timedelta(hours=1)}
        )
    return fired


@clock_workflows.orchestrator
def wait_or_timeout(ctx: task.OrchestrationContext, hours: float) -> str:
    """``"event"`` if the ``go`` event comes before a timer of ``hours``, else ``"timeout"``."""
    timer = ctx.create_timer(timedelta(hours=hours))
    event = ctx.wait_for_external_event("go")
    winner = yield task.when_any([event, timer])
    return "event" if winner is event else "timeout"


@clock_workflows.orchestrator
def hold_up(ctx: task.OrchestrationContext, hours: float) -> str:
    """A slow activity racing a timer of ``hours``: the timer must not fire while the activity runs."""
    timer = ctx.create_timer(timedelta(hours=hours))
    work = ctx.call_activity(slow_step, input=None)
    winner = yield task.when_any([work, timer])
    return "work" if winner is work else "timer"


@clock_workflows.activity
def slow_step(ctx: task.ActivityContext, _: Any) -> str:
    return "done"
