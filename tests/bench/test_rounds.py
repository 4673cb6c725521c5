"""The bench's statistics: the median's order-statistic interval, the met verdict and the adaptive rounds.

Standard library only, so the fast tier runs it without the bench's requirements.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

import pytest

from bench.rounds import (
    RatioSummary,
    RoundPolicy,
    cell,
    floor_cell,
    in_turn,
    median_interval,
    summaries,
    take_rounds,
    verdict,
)


def test_five_rounds_give_lowest_to_highest_at_thirty_one_in_thirty_two() -> None:
    low, high, coverage = median_interval([1.02, 0.97, 1.10, 0.99, 1.05])
    assert (low, high) == (0.97, 1.10)
    assert coverage == pytest.approx(1 - 2 / 32)


def test_more_rounds_drop_the_extremes_and_keep_the_coverage() -> None:
    values = [float(value) for value in range(1, 16)]  # 15 rounds
    low, high, coverage = median_interval(values)
    # P(Binomial(15, 1/2) <= 3) = 576/32768, the largest tail that keeps 90%: the 4th lowest to the 4th highest.
    assert (low, high) == (4.0, 12.0)
    assert coverage == pytest.approx(1 - 2 * sum(math.comb(15, i) for i in range(4)) / 2**15)
    assert coverage >= 0.9
    wider = 1 - 2 * sum(math.comb(15, i) for i in range(5)) / 2**15
    assert wider < 0.9  # the 5th lowest would not do


def test_too_few_rounds_say_how_little_they_cover() -> None:
    assert median_interval([0.9, 1.1, 1.0]) == (0.9, 1.1, pytest.approx(0.75))
    assert median_interval([1.0]) == (1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="no rounds"):
        median_interval([])


def test_the_interval_covers_the_true_median_as_often_as_it_claims() -> None:
    generator = random.Random(7)
    trials, covered = 4000, 0
    for _ in range(trials):
        low, high, _ = median_interval([generator.lognormvariate(0, 0.1) for _ in range(9)])
        covered += low <= 1.0 <= high  # the lognormal's median is exactly 1
    assert covered / trials >= 0.9 - 0.02  # the interval's exact coverage is 96.1% for nine rounds


def test_a_row_is_met_only_when_its_lower_bound_meets_the_target() -> None:
    above = RatioSummary.of([1.01, 1.03, 1.05, 1.02, 1.04], target=1.0)
    straddling = RatioSummary.of([0.98, 1.03, 1.05, 1.02, 1.04], target=1.0)
    assert above.met is True and above.decided
    assert straddling.median > 1.0 and straddling.met is False and not straddling.decided
    assert RatioSummary.of([0.9, 0.92], target=None).met is None


def test_the_report_cells_carry_the_interval_and_the_verdict() -> None:
    summary = summaries({"32": [0.93, 0.97, 0.96, 0.95, 0.99]}, {"32": 0.95})["32"]
    assert cell(summary) == "**0.96x** (94% interval 0.93-0.99; 5 rounds, 0.93-0.99)"
    assert verdict(summary, ">= 0.95x") == ">= 0.95x: **not met**"
    assert verdict({**summary, "met": True}, ">= 0.95x") == ">= 0.95x: met"
    assert verdict({**summary, "met": None}, "") == ""


class _Rounds:
    """Round ratios by row from fixed sequences, recording which rows each round measured."""

    def __init__(self, sequences: Mapping[str, list[float]]) -> None:
        self._left = {row: list(values) for row, values in sequences.items()}
        self.calls: list[list[str]] = []

    def __call__(self, rows: list[str]) -> dict[str, float]:
        self.calls.append(rows)
        return {row: self._left[row].pop(0) for row in rows}


def test_a_clear_row_stops_at_the_minimum_and_a_close_one_takes_more() -> None:
    clear = [1.20, 1.22, 1.19, 1.21, 1.20] + [1.2] * 20
    close = [0.97, 1.04, 0.99, 1.03, 1.01, 0.96, 1.05, 1.02, 0.98, 1.04, 1.03, 1.02] + [1.02] * 20
    rounds = _Rounds({"clear": clear, "close": close})
    ratios = take_rounds({"clear": 1.0, "close": 1.0}, rounds, RoundPolicy(min_rounds=5, max_rounds=12))
    assert ratios["clear"] == clear[:5]
    assert ratios["close"] == close[:12]  # never settled: it ran to the maximum
    assert rounds.calls[5:] == [["close"]] * 7


def test_a_narrow_interval_settles_a_row_that_straddles_its_target() -> None:
    steady = [1.0, 1.005, 0.995, 1.002, 0.998] + [1.0] * 20
    ratios = take_rounds({"steady": 1.0}, _Rounds({"steady": steady}), RoundPolicy(min_rounds=5, precision=0.02))
    assert len(ratios["steady"]) == 5


def test_time_ends_the_rounds_but_never_before_the_minimum() -> None:
    ticks = iter(range(1000))
    rounds = _Rounds({"close": [0.9, 1.1] * 50})
    policy = RoundPolicy(min_rounds=5, max_rounds=50, seconds=3)
    ratios = take_rounds({"close": 1.0}, rounds, policy, clock=lambda: float(next(ticks)))
    assert len(ratios["close"]) == 5  # the deadline passed after three rounds; the minimum still ran


def test_a_row_without_target_stops_once_precise() -> None:
    values = [2.0, 2.01, 1.99, 2.0, 2.0, 3.0, 3.0]
    ratios = take_rounds({"starts": None}, _Rounds({"starts": values}), RoundPolicy(min_rounds=5, precision=0.02))
    assert ratios["starts"] == values[:5]


def test_rounds_alternate_which_side_runs_first() -> None:
    orders = [in_turn(["app", "bare", "twin"], number) for number in range(4)]
    assert orders == [["app", "bare", "twin"], ["twin", "bare", "app"]] * 2


def test_the_noise_floor_cell_gives_the_a_a_median_and_interval() -> None:
    floor = RatioSummary.of([0.97, 1.04, 1.0, 0.92, 1.08]).as_dict()
    assert floor_cell(floor) == "; A/A 1.00x (0.92-1.08)"
    assert floor_cell(None) == ""
