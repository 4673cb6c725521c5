"""Calls that retry only the failures worth retrying, and waits that give up at a durable deadline.

The SDK's ``RetryPolicy`` retries every failure, and measures its total timeout on the worker's wall clock,
which replays differently. :class:`RetryRule` retries only the exception types it lists, as recorded in the
failure details (``FailureDetails.is_caused_by``), waits on durable timers and measures the total timeout on
the orchestration's own clock, so a replay takes the same decisions::

    TRANSIENT = RetryRule(retry_on=(ConnectionError, TimeoutError), attempts=3, first_interval=timedelta(seconds=1))

    @workflows.activity(retry=TRANSIENT)          # every call of the activity
    def fetch_rate(ctx, currency): ...

    rate = yield call_activity(ctx, fetch_rate, input="EUR")                      # the declared rule
    rate = yield call_activity(ctx, fetch_rate, input="EUR", retry=other_rule)   # this call's own rule

:func:`within` races any task against a durable timer and raises :class:`WorkflowTimeoutError` naming what
timed out; a result that arrives after the deadline is ignored.

Both return tasks, so they compose with ``task.when_all`` / ``task.when_any`` like the SDK's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from durabletask import task

RETRY_RULE_ATTRIBUTE = "__durable_retry_rule__"
"""Where ``@workflows.activity(retry=...)`` keeps an activity's rule, on the function the orchestrator calls."""


@dataclass(frozen=True)
class RetryRule:
    """Which failures to retry, how often and how far apart; anything else fails the call at once.

    ``retry_on`` names exception types (classes, or names as recorded in the failure details). ``attempts``
    counts the first call. The n-th retry waits ``first_interval * backoff ** (n - 1)``, at most
    ``max_interval``; no retry starts later than ``total_timeout`` after the first call.
    """

    retry_on: tuple[type[BaseException] | str, ...]
    attempts: int = 3
    first_interval: timedelta = timedelta(seconds=1)
    backoff: float = 2.0
    max_interval: timedelta | None = None
    total_timeout: timedelta | None = None

    def __post_init__(self) -> None:
        if not self.retry_on:
            raise ValueError("retry_on must name at least one exception type: a rule that retries nothing is no rule")
        for kind in self.retry_on:
            if not (isinstance(kind, str) and kind) and not (
                isinstance(kind, type) and issubclass(kind, BaseException)
            ):
                raise ValueError(f"retry_on holds {kind!r}: give exception classes or their names")
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.first_interval < timedelta(0):
            raise ValueError(f"first_interval must not be negative, got {self.first_interval}")
        if self.backoff < 1:
            raise ValueError(f"backoff must be at least 1, got {self.backoff}")
        if self.max_interval is not None and self.max_interval < timedelta(0):
            raise ValueError(f"max_interval must not be negative, got {self.max_interval}")
        if self.total_timeout is not None and self.total_timeout < timedelta(0):
            raise ValueError(f"total_timeout must not be negative, got {self.total_timeout}")

    def retries(self, failure: task.FailureDetails) -> bool:
        """Whether the failure is of a listed type (or a subclass of one)."""
        return any(failure.is_caused_by(kind) for kind in self.retry_on)

    def delay_after(self, attempt: int) -> timedelta:
        """How long to wait after the ``attempt``-th call failed (1 for the first call)."""
        delay = self.first_interval * self.backoff ** (attempt - 1)
        return delay if self.max_interval is None else min(delay, self.max_interval)


class WorkflowTimeoutError(task.TaskFailedError):
    """A task passed to :func:`within` did not finish by its deadline; the message names it."""

    def __init__(self, what: str, deadline: datetime) -> None:
        message = f"{what} timed out: no result by {deadline.isoformat()} (durable time, UTC)"
        super().__init__(message, TimeoutError(message))
        self.what = what
        self.deadline = deadline


class _Retrying(task.CompletableTask[Any]):
    """One call and its retries: completes with the first success, or fails with the last failure."""

    def __init__(self, ctx: task.OrchestrationContext, call: Callable[[], task.Task[Any]], rule: RetryRule) -> None:
        super().__init__()
        self._ctx = ctx
        self._call = call
        self._rule = rule
        self._attempt = 0
        self._started = ctx.current_utc_datetime
        self._current: task.Task[Any] | None = None
        self._next_attempt()

    def _next_attempt(self) -> None:
        self._attempt += 1
        self._watch(self._call())

    def _watch(self, child: task.Task[Any]) -> None:
        self._current = child
        child._parents[id(self)] = self  # type: ignore[assignment]  # the SDK's own composition hook

    def on_child_completed(self, child: task.Task[Any]) -> None:
        """The attempt finished, or the wait before the next one ended."""
        if self.is_complete or child is not self._current:
            return
        if isinstance(child, task.TimerTask):
            self._next_attempt()
        elif not child.is_failed:
            self.complete(child.get_result())
        else:
            self._after_failure(child.get_exception())

    def _after_failure(self, error: task.TaskFailedError) -> None:
        delay = self._rule.delay_after(self._attempt)
        if self._may_retry(error.details, delay):
            self._watch(self._ctx.create_timer(delay))
            return
        tried = f" after {self._attempt} attempts" if self._attempt > 1 else ""
        self._exception = task.TaskFailedError(f"{error}{tried}", error._failure_details)
        self._is_complete = True
        self._notify_parent()

    def _may_retry(self, failure: task.FailureDetails, delay: timedelta) -> bool:
        if self._attempt >= self._rule.attempts or not self._rule.retries(failure):
            return False
        if self._rule.total_timeout is None:
            return True
        return self._ctx.current_utc_datetime + delay <= self._started + self._rule.total_timeout


class _Within(task.CompletableTask[Any]):
    """A task raced against a durable timer: the first of the two decides."""

    def __init__(self, work: task.Task[Any], timer: task.TimerTask, what: str, deadline: datetime) -> None:
        super().__init__()
        self._work = work
        self._timer = timer
        self._what = what
        self._deadline = deadline
        for child in (work, timer):
            if child.is_complete:
                self.on_child_completed(child)
            else:
                child._parents[id(self)] = self  # type: ignore[assignment]  # the SDK's own composition hook

    def on_child_completed(self, child: task.Task[Any]) -> None:
        """The work finished first (its result or failure stands), or the deadline came first."""
        if self.is_complete:
            return
        self._work._parents.pop(id(self), None)
        self._timer._parents.pop(id(self), None)
        if child is self._timer:
            self._exception = WorkflowTimeoutError(self._what, self._deadline)
        elif child.is_failed:
            self._exception = child.get_exception()
        else:
            self._result = child.get_result()
        self._is_complete = True
        self._notify_parent()


def declared_rule(activity: Any) -> RetryRule | None:
    """The rule ``@workflows.activity(retry=...)`` gave an activity function (``None``: none, or a name)."""
    return getattr(activity, RETRY_RULE_ATTRIBUTE, None)


def call_activity(
    ctx: task.OrchestrationContext,
    activity: Callable[..., Any] | str,
    *,
    input: Any = None,
    retry: RetryRule | None = None,
) -> task.Task[Any]:
    """Call an activity under ``retry``, else under the rule it was declared with, else once."""
    rule = retry or declared_rule(activity)
    if rule is None:
        return ctx.call_activity(activity, input=input)
    return _Retrying(ctx, lambda: ctx.call_activity(activity, input=input), rule)


def call_sub_orchestrator(
    ctx: task.OrchestrationContext,
    orchestrator: Callable[..., Any] | str,
    *,
    input: Any = None,
    instance_id: str | None = None,
    retry: RetryRule | None = None,
) -> task.Task[Any]:
    """Call a sub-orchestration, retried under ``retry`` when given; each retry reuses ``instance_id``."""
    if retry is None:
        return ctx.call_sub_orchestrator(orchestrator, input=input, instance_id=instance_id)
    return _Retrying(ctx, lambda: ctx.call_sub_orchestrator(orchestrator, input=input, instance_id=instance_id), retry)


def within(
    ctx: task.OrchestrationContext,
    work: task.Task[Any],
    timeout: timedelta | datetime,
    what: str,
    *,
    timer: task.TimerTask | None = None,
) -> task.Task[Any]:
    """``work``'s result, or :class:`WorkflowTimeoutError` naming ``what`` when ``timeout`` passes first.

    ``timeout`` is a duration or a deadline (UTC). ``timer``, a timer already created for that deadline, lets
    several waits share one (a loop that waits for events until one deadline) and keeps the history unchanged.
    """
    deadline = ctx.current_utc_datetime + timeout if isinstance(timeout, timedelta) else timeout
    return _Within(work, timer or ctx.create_timer(deadline), what, deadline)
