"""Retry rules and timeouts, run for real on the kit's scheduler and worker with its skipped durable time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from durabletask import task

from durable_app.testing import WorkflowEnv
from durable_app.workflows import RetryRule
from tests.helpers.polling import wait_until
from tests.kit.call_workflows.calls import call_workflows


@pytest.fixture
def env() -> Iterator[WorkflowEnv]:
    with WorkflowEnv(call_workflows) as running:
        yield running


def failing(*errors: BaseException) -> Any:
    """A fake activity that raises each error in turn, then returns its input."""
    pending = list(errors)

    def activity(ctx: task.ActivityContext, value: Any) -> Any:
        if pending:
            raise pending.pop(0)
        return value

    return activity


def test_a_listed_failure_is_retried_under_the_declared_rule(env: WorkflowEnv) -> None:
    env.fake_activity("flaky", failing(ConnectionError("reset"), ConnectionError("reset again")))
    result = env.wait(env.start("declared_retry", 5))
    assert (result.status, result.output) == ("Completed", 5)
    assert env.calls("flaky") == [5, 5, 5]


def test_an_unlisted_failure_fails_at_once(env: WorkflowEnv) -> None:
    env.fake_activity("flaky", failing(ValueError("bad input 5")))
    result = env.wait(env.start("declared_retry", 5))
    assert result.status == "Failed"
    assert result.failure is not None and "bad input 5" in result.failure.message
    assert env.calls("flaky") == [5]


def test_attempts_run_out_with_the_last_failure_named(env: WorkflowEnv) -> None:
    env.fake_activity("flaky", failing(*(ConnectionError(f"reset {n}") for n in range(1, 5))))
    result = env.wait(env.start("declared_retry", 5))
    assert result.status == "Failed"
    assert result.failure is not None and "reset 3" in result.failure.message
    assert "after 3 attempts" in result.failure.message
    assert env.calls("flaky") == [5, 5, 5]


def test_a_call_gives_its_own_rule_with_backoff_and_max_interval(env: WorkflowEnv) -> None:
    env.fake_activity("steady", failing(*(TimeoutError("slow") for _ in range(4))))
    rule = {"retry_on": ["TimeoutError"], "attempts": 5, "first_minutes": 1, "max_minutes": 3, "items": ["x"]}
    result = env.wait(env.start("own_retry", rule))
    assert result.status == "Completed"
    # waits of 1, 2, 3 (4 capped) and 3 (8 capped) minutes on the durable clock
    assert result.output["results"] == ["x"] and result.output["minutes"] >= 9
    assert env.calls("steady") == ["x"] * 5


def test_the_total_timeout_stops_retries_that_would_start_after_it(env: WorkflowEnv) -> None:
    env.fake_activity("steady", failing(*(ConnectionError("down") for _ in range(10))))
    rule = {
        "retry_on": ["ConnectionError"],
        "attempts": 10,
        "first_minutes": 60,
        "backoff": 1.0,
        "total_minutes": 150,
        "items": ["y"],
    }
    result = env.wait(env.start("own_retry", rule))
    assert result.status == "Failed"
    assert env.calls("steady") == ["y"] * 3  # at 0, 60 and 120 minutes; 180 is past 150


def test_fanned_out_calls_retry_each_on_its_own(env: WorkflowEnv) -> None:
    failed: set[int] = set()

    def once_each(ctx: task.ActivityContext, item: int) -> int:
        if item not in failed:
            failed.add(item)
            raise ConnectionError(f"item {item} reset")
        return item * 10

    env.fake_activity("steady", once_each)
    rule = {"retry_on": ["ConnectionError"], "attempts": 2, "first_minutes": 1, "items": [1, 2, 3]}
    result = env.wait(env.start("own_retry", rule))
    assert (result.status, result.output["results"]) == ("Completed", [10, 20, 30])
    assert sorted(env.calls("steady")) == [1, 1, 2, 2, 3, 3]


def test_a_sub_orchestration_is_retried_on_a_listed_failure_only(env: WorkflowEnv) -> None:
    outcomes = ["ConnectionError", "ConnectionError", "fine"]
    env.fake_activity("steady", lambda ctx, value: outcomes.pop(0))
    result = env.wait(env.start("parent", "v", instance_id="retried-parent"))
    assert (result.status, result.output) == ("Completed", "fine")

    env.fake_activity("steady", lambda ctx, value: "ValueError")
    result = env.wait(env.start("parent", "v", instance_id="refused-parent"))
    assert result.status == "Failed"
    assert result.failure is not None and "child got a bad value" in result.failure.message
    assert len(env.calls("steady")) == 4  # three attempts of the first child, one of the second


def test_the_rule_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="retry_on"):
        RetryRule(retry_on=())
    with pytest.raises(ValueError, match="retry_on"):
        RetryRule(retry_on=(int,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="attempts"):
        RetryRule(retry_on=(ConnectionError,), attempts=0)
    with pytest.raises(ValueError, match="backoff"):
        RetryRule(retry_on=(ConnectionError,), backoff=0.5)
    with pytest.raises(ValueError, match="first_interval"):
        RetryRule(retry_on=(ConnectionError,), first_interval=timedelta(seconds=-1))


@pytest.mark.parametrize("kind", ["event", "sub_orchestration"])
def test_a_wait_past_its_deadline_raises_naming_what_timed_out(env: WorkflowEnv, kind: str) -> None:
    instance_id = env.start("timed", kind)
    wait_until(lambda: _has_event(env, instance_id, "timerCreated"), timeout=30)
    env.advance(timedelta(minutes=11))
    wait_until(lambda: _waits_for_done(env, instance_id), timeout=30)
    env.raise_event(instance_id, "done")
    result = env.wait(instance_id)
    assert result.status == "Completed"
    assert result.output["what"] == f"the {kind}"
    assert result.output["timed_out"].startswith(f"the {kind} timed out: no result by ")


def test_a_late_activity_result_is_ignored(env: WorkflowEnv) -> None:
    release = threading.Event()

    def slow(ctx: task.ActivityContext, value: Any) -> str:
        release.wait(30)
        return "late"

    env.fake_activity("steady", slow)
    instance_id = env.start("timed", "activity")
    wait_until(lambda: env.calls("steady") == ["slow"], timeout=30)
    env.advance(timedelta(minutes=11))
    wait_until(lambda: _waits_for_done(env, instance_id), timeout=30)
    release.set()
    wait_until(lambda: _has_event(env, instance_id, "taskCompleted"), timeout=30)
    env.raise_event(instance_id, "done")
    result = env.wait(instance_id)
    assert (result.status, result.output["what"]) == ("Completed", "the activity")


@pytest.mark.parametrize(("kind", "expected"), [("activity", "slow"), ("entity", 7)])
def test_a_result_in_time_passes_through(env: WorkflowEnv, kind: str, expected: Any) -> None:
    result = env.wait(env.start("timed", kind))
    assert (result.status, result.output) == ("Completed", {"result": expected})


def _waits_for_done(env: WorkflowEnv, instance_id: str) -> bool:
    return _has_event(env, instance_id, "timerFired")


def _has_event(env: WorkflowEnv, instance_id: str, kind: str) -> bool:
    return any(kind in event for event in env.history(instance_id)["events"])


def test_the_kit_starts_under_the_app_version_or_the_one_given(env: WorkflowEnv) -> None:
    assert env.wait(env.start("versioned")).output == {"version": "1.0.0", "path": "old"}
    assert env.wait(env.start("versioned", version="2.0.0")).output == {"version": "2.0.0", "path": "new"}


def test_an_uncaught_timeout_fails_the_orchestration_naming_what_timed_out(env: WorkflowEnv) -> None:
    result = env.wait(env.start("gives_up"))
    assert result.status == "Failed" and result.failure is not None
    assert result.failure.message.startswith("the never event timed out: no result by ")
    assert result.failure.error_type.endswith("WorkflowTimeoutError")
