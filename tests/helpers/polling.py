"""The one way tests wait for something that happens in another thread or process: poll until it holds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 20,
    interval: float = 0.05,
    message: str | Callable[[], str] = "the condition never held",
) -> T:
    """Call ``predicate`` every ``interval`` s until it returns a truthy value, and return that value.

    After ``timeout`` s it fails the test with an AssertionError carrying ``message`` (a callable is called only
    then, so it can read a log or the current state) and the predicate's last value. The predicate may raise to
    stop waiting at once, e.g. when a process it waits on has exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"{text} (waited {timeout} s; last value {value!r})")
        time.sleep(interval)
