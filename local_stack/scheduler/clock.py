"""The scheduler's own clock: wall time plus an offset that tests may move forward, and the timers due on it.

The SDK's in-memory backend fires each durable timer from a thread that sleeps in real time, so a timer of a
day takes a day. Here every timer of the scheduler (orchestration timers, delayed entity signals, timers
re-armed after a restart) waits on one :class:`SchedulerClock`: one thread fires them in due order, and moving
the clock forward (:meth:`SchedulerClock.advance`, :meth:`SchedulerClock.take_next`) makes a day-long timer
due at once. In the local stack the offset stays zero and the clock is the wall clock.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

logger = logging.getLogger(__name__)

MAX_IDLE_WAIT_SECONDS = 60.0
"""Longest sleep of the timer thread between two looks at the earliest timer (a moved clock wakes it sooner)."""


@dataclass(order=True)
class _Timer:
    due: datetime
    sequence: int
    callback: Callable[[], None] = field(compare=False)


class SchedulerClock:
    """Wall-clock time plus an offset, with callbacks fired once the clock reaches their due time."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._timers: list[_Timer] = []
        self._sequence = itertools.count()
        self._changed = threading.Condition()
        self._firing = 0
        self._thread: threading.Thread | None = None
        self._stopped = False

    def now(self) -> datetime:
        """The scheduler's time: what orchestrations see as ``ctx.current_utc_datetime``."""
        return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        """How far the clock is ahead of the wall clock."""
        return self._offset

    def call_at(self, due: datetime, callback: Callable[[], None]) -> None:
        """Run ``callback`` (on the clock's thread) once the clock reaches ``due``; at once if it has passed."""
        with self._changed:
            heapq.heappush(self._timers, _Timer(due, next(self._sequence), callback))
            self._stopped = False
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="scheduler-clock", daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def pending(self) -> int:
        """Timers not yet fired, those being fired now included."""
        with self._changed:
            return len(self._timers) + self._firing

    def next_due(self) -> datetime | None:
        """When the earliest unfired timer is due; ``None`` without one."""
        with self._changed:
            return self._timers[0].due if self._timers else None

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``; timers it passes fire in due order on the clock's thread."""
        if delta < timedelta(0):
            raise ValueError(f"the clock only moves forward, got {delta}")
        with self._changed:
            self._offset += delta
            self._changed.notify_all()

    def take_next(self) -> list[_Timer]:
        """Move the clock to the earliest timer and take every timer due then, for :meth:`fire`.

        Nothing (and nothing moves) when there is no timer, or a timer is being fired right now: what it
        delivers must be seen before the clock may move again.
        """
        with self._changed:
            if not self._timers or self._firing:
                return []
            gap = self._timers[0].due - self.now()
            if gap > timedelta(0):
                self._offset += gap
            return self._take_due()

    def fire(self, taken: list[_Timer]) -> None:
        """Run the callbacks of timers taken with :meth:`take_next`, in due order, in this thread.

        Outside the clock's lock: callbacks take the scheduler's, whose holders may be calling :meth:`call_at`.
        """
        try:
            for timer in taken:
                try:
                    timer.callback()
                except Exception:
                    logger.exception("A scheduler timer failed to fire")
        finally:
            with self._changed:
                self._firing -= len(taken)
                self._changed.notify_all()

    def stop(self) -> None:
        """Drop every unfired timer and end the clock's thread (a later :meth:`call_at` starts it again)."""
        with self._changed:
            self._timers.clear()
            self._stopped = True
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                if self._stopped:
                    return
                due = self._take_due()
                if not due:
                    wait = (self._timers[0].due - self.now()).total_seconds() if self._timers else MAX_IDLE_WAIT_SECONDS
                    self._changed.wait(min(max(wait, 0.0), MAX_IDLE_WAIT_SECONDS))
                    continue
            self.fire(due)

    def _take_due(self) -> list[_Timer]:
        """Pop the timers due by now, counting them as being fired. Condition held."""
        now = self.now()
        due: list[_Timer] = []
        while self._timers and self._timers[0].due <= now:
            due.append(heapq.heappop(self._timers))
        self._firing += len(due)
        return due
