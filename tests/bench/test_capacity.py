"""The capacity figures: the replicas formula, and ``docs/scaling.md`` carrying the tables of the run they came from."""

from __future__ import annotations

import json
import re

import pytest

from bench import report
from bench.capacity import BACKLOGS, DEADLINES_MINUTES, KINDS, RESULTS, replicas_needed
from tests.helpers.stack import ROOT

CAPACITY_BLOCK = re.compile(r"<!-- capacity: begin.*?-->\n(.*?)<!-- capacity: end -->", re.DOTALL)


def test_replicas_are_the_backlog_over_what_one_replica_finishes_by_the_deadline() -> None:
    assert replicas_needed(10_000, 80.0, 60) == 3  # 4,800 per replica in a minute
    assert replicas_needed(9_600, 80.0, 60) == 2  # exactly two replicas' worth
    assert replicas_needed(100_000, 40.0, 900) == 3
    assert replicas_needed(1, 1000.0, 60) == 1
    with pytest.raises(ValueError, match="positive"):
        replicas_needed(10, 0.0, 60)


def test_committed_tables_are_rendered_from_the_committed_run() -> None:
    """A figure edited by hand in ``capacity.md`` or ``capacity.json`` no longer matches its own run."""
    run = json.loads((RESULTS / "capacity.json").read_text())
    capacity = run["capacity"]
    for kind in KINDS:
        rate = capacity["activities_per_second"][kind]
        assert rate > 0
        expected = {str(n): {str(m): replicas_needed(n, rate, m * 60) for m in DEADLINES_MINUTES} for n in BACKLOGS}
        assert capacity["replicas_needed"][kind] == expected
    assert (RESULTS / "capacity.md").read_text() == report.capacity_markdown(run)


def test_scaling_doc_carries_the_capacity_tables_verbatim() -> None:
    """A bench run that changes the figures fails this until ``docs/scaling.md`` is refreshed from ``capacity.md``."""
    block = CAPACITY_BLOCK.search((ROOT / "docs" / "scaling.md").read_text())
    assert block is not None, "docs/scaling.md has no capacity block"
    assert block.group(1) == (RESULTS / "capacity.md").read_text()
