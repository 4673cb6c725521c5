"""How sure a ratio row is, and how many interleaved rounds it takes to be that sure.

Each round of a row measures both sides back to back (A B), so the round's ratio A/B cancels the shared
machine's slow drifts; the rounds' ratios are then treated as draws from an unknown distribution. The row
reports the median round ratio with a distribution-free confidence interval of that median: the interval
between two order statistics of the rounds, whose coverage follows from the binomial distribution alone
(no normality, no resampling, the same answer from the same rounds). A row is met only when the interval's
lower bound meets its target, and rounds continue until the interval settles the question (it lies wholly on
one side of the target, or it is narrower than ``precision``), or the row's rounds or time run out.

Standard library only: the fast test tier imports this without the bench's requirements.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

CONFIDENCE = 0.9
"""The coverage each interval aims for; fewer than five rounds cannot reach it (and say so)."""

Row = TypeVar("Row", bound=Hashable)


def median_interval(values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """The narrowest order-statistic interval ``(low, high)`` covering the median with at least ``confidence``,
    and its exact coverage.

    ``(x[k], x[n-1-k])`` of the sorted values covers the true median unless at least ``n - k`` values fall on
    one side of it, so its coverage is ``1 - 2 * P(Binomial(n, 1/2) <= k - 1)``. Where no interval reaches
    ``confidence`` (under five values for 90%), the widest one, lowest to highest, is returned with its coverage.
    """
    if not values:
        raise ValueError("no rounds to summarise")
    ordered = sorted(values)
    n = len(ordered)
    best = 0
    for k in range(1, (n + 1) // 2 + 1):
        if _coverage(n, k) >= confidence:
            best = k
        else:
            break
    k = max(best, 1)
    return ordered[k - 1], ordered[n - k], _coverage(n, k)


def _coverage(n: int, k: int) -> float:
    """Coverage of the interval from the ``k``-th lowest to the ``k``-th highest of ``n`` values."""
    below = sum(math.comb(n, i) for i in range(k)) / 2**n
    return max(0.0, 1 - 2 * below)


@dataclass(frozen=True)
class RatioSummary:
    """One row's rounds: the median round ratio, its confidence interval and the extreme rounds."""

    median: float
    low: float
    high: float
    coverage: float
    lowest: float
    highest: float
    rounds: int
    target: float | None

    @classmethod
    def of(cls, ratios: list[float], target: float | None = None) -> RatioSummary:
        low, high, coverage = median_interval(ratios)
        return cls(statistics.median(ratios), low, high, coverage, min(ratios), max(ratios), len(ratios), target)

    @property
    def met(self) -> bool | None:
        """Whether the target holds at the interval's cautious end; ``None`` for a row without one."""
        if self.target is None:
            return None
        return self.low >= self.target

    @property
    def decided(self) -> bool:
        """Whether the interval lies wholly on one side of the target."""
        if self.target is None:
            return False
        return self.low >= self.target or self.high < self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "median": self.median, "low": self.low, "high": self.high, "coverage": self.coverage,
            "lowest": self.lowest, "highest": self.highest, "rounds": self.rounds, "target": self.target,
            "met": self.met,
        }  # fmt: skip


@dataclass(frozen=True)
class RoundPolicy:
    """How many rounds a row takes: at least ``min_rounds``, then more until it is settled, within
    ``max_rounds`` and ``seconds`` for the whole scenario."""

    min_rounds: int = 5
    max_rounds: int = 15
    seconds: float = 240.0
    precision: float = 0.03
    """An interval narrower than this, relative to its median, settles a row even where it holds its target."""

    def settled(self, summary: RatioSummary) -> bool:
        if summary.rounds < self.min_rounds:
            return False
        if summary.rounds >= self.max_rounds or summary.decided:
            return True
        return (summary.high - summary.low) / summary.median <= self.precision


def take_rounds(
    targets: Mapping[Row, float | None],
    run_round: Callable[[list[Row]], Mapping[Row, float]],
    policy: RoundPolicy,
    clock: Callable[[], float] = time.monotonic,
) -> dict[Row, list[float]]:
    """Round ratios per row: ``run_round(rows)`` measures one interleaved round of the rows still unsettled
    and returns each one's ratio; rows leave once settled, and no round starts after ``policy.seconds``
    (the minimum rounds excepted)."""
    ratios: dict[Row, list[float]] = {row: [] for row in targets}
    deadline = clock() + policy.seconds
    while True:
        open_rows = [row for row in targets if not _settled(ratios[row], targets[row], policy)]
        short = any(len(ratios[row]) < policy.min_rounds for row in open_rows)
        if not open_rows or (clock() >= deadline and not short):
            return ratios
        measured = run_round(open_rows)
        for row in open_rows:
            ratios[row].append(measured[row])


def in_turn(sides: list[str], round_number: int) -> list[str]:
    """The order a round runs its sides in: as given in even rounds, reversed in odd ones (A B, then B A).

    The side that runs second in a round met a different machine: the first one's stack still settling, caches
    and clocks warmed by it. Alternating spreads that over both sides instead of charging it to one.
    """
    return sides if round_number % 2 == 0 else sides[::-1]


def _settled(ratios: list[float], target: float | None, policy: RoundPolicy) -> bool:
    return bool(ratios) and policy.settled(RatioSummary.of(ratios, target))


def summaries(ratios: Mapping[Row, list[float]], targets: Mapping[Row, float | None]) -> dict[Row, dict[str, Any]]:
    """Each row's summary, as stored in ``results.json``."""
    return {row: RatioSummary.of(values, targets[row]).as_dict() for row, values in ratios.items()}


def cell(summary: Mapping[str, Any]) -> str:
    """A report cell: the median round ratio, its interval with coverage, and the extreme rounds."""
    return (
        f"**{summary['median']:.2f}x** ({summary['coverage']:.0%} interval {summary['low']:.2f}-{summary['high']:.2f}; "
        f"{summary['rounds']} rounds, {summary['lowest']:.2f}-{summary['highest']:.2f})"
    )


def floor_cell(summary: Mapping[str, Any] | None) -> str:
    """The row's noise floor: the same rounds' ratio of the baseline to a twin of itself (A/A)."""
    if summary is None:
        return ""
    return f"; A/A {summary['median']:.2f}x ({summary['low']:.2f}-{summary['high']:.2f})"


def verdict(summary: Mapping[str, Any], target: str) -> str:
    """The target cell: the target and whether the interval's lower bound meets it."""
    if summary.get("met") is None:
        return target
    return f"{target}: {'met' if summary['met'] else '**not met**'}"
