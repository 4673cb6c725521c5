"""The scheduler's clock: timers fire in due order, on its thread or when skipped to, and time only moves forward."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from local_stack.scheduler.clock import SchedulerClock
from tests.helpers.polling import wait_until


@pytest.fixture
def clock() -> Iterator[SchedulerClock]:
    clock = SchedulerClock()
    yield clock
    clock.stop()


def test_skipping_fires_the_earliest_timers_first_and_moves_time_to_them(clock: SchedulerClock) -> None:
    fired: list[str] = []
    start = clock.now()
    for name, hours in (("late", 48), ("early", 1), ("middle", 5), ("early-too", 1)):
        clock.call_at(start + timedelta(hours=hours), lambda name=name: fired.append(name))
    clock.fire(clock.take_next())
    assert fired == ["early", "early-too"]
    assert clock.now() - start >= timedelta(hours=1)
    clock.fire(clock.take_next())
    clock.fire(clock.take_next())
    assert fired == ["early", "early-too", "middle", "late"]
    assert clock.now() - start >= timedelta(hours=48) > clock.offset
    assert (clock.take_next(), clock.pending(), clock.next_due()) == ([], 0, None)


def test_advancing_fires_what_it_passes_on_the_clock_thread_and_nothing_else(clock: SchedulerClock) -> None:
    fired: list[int] = []
    start = clock.now()
    for hours in (3, 1, 10):
        clock.call_at(start + timedelta(hours=hours), lambda hours=hours: fired.append(hours))
    clock.advance(timedelta(hours=4))
    wait_until(lambda: fired == [1, 3], message=lambda: f"fired {fired}")
    assert clock.next_due() == start + timedelta(hours=10)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(timedelta(microseconds=-1))


def test_a_timer_already_due_fires_at_once_and_a_failing_one_stops_nothing(clock: SchedulerClock) -> None:
    fired: list[str] = []

    def broken() -> None:
        raise RuntimeError("a callback that fails")

    clock.call_at(clock.now() - timedelta(days=1), broken)
    clock.call_at(clock.now(), lambda: fired.append("due"))
    wait_until(lambda: fired == ["due"] and clock.pending() == 0)
    assert clock.offset == timedelta(0)


def test_stopping_drops_unfired_timers(clock: SchedulerClock) -> None:
    fired: list[str] = []
    clock.call_at(clock.now() + timedelta(hours=1), lambda: fired.append("dropped"))
    clock.stop()
    assert clock.take_next() == [] and fired == []
