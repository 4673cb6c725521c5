"""Log volume at the default levels: quiet per work item, one INFO line per orchestration step, and a clean
stop (Ctrl-C) that logs nothing at WARNING.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from durable_app.scheduler.sdk_logging import CleanStopFilter
from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import LocalStack, wait_for_output

pytestmark = pytest.mark.timeout(300)

ITEMS = 200
ORCHESTRATION_STEPS = [
    "Starting fan out/fan in orchestration with 200 items",
    "Waiting for 200 parallel tasks to complete",
    "All parallel tasks completed, aggregating results",
    "Aggregating results from 200 items",
]


@pytest.fixture(scope="module")
def stopped_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack that ran one fan-out of 200 items, then was stopped as Ctrl-C stops it."""
    log_dir = Path(tmp_path_factory.mktemp("quiet"))
    local = LocalStack(log_dir=log_dir, env=dict(INSTANT_WORK))
    with local.running(), httpx.Client(base_url=local.base_url, timeout=30) as api:
        started = api.post("/orchestrators/fan_out_fan_in_orchestrator", json={"count": ITEMS})
        assert started.status_code == 202, started.text
        assert wait_for_output(api, started.json()["statusQueryGetUri"])["runtimeStatus"] == "Completed"
    yield local


def app_lines(log: str) -> list[str]:
    """The host's log lines from the app and the SDKs (uvicorn's access log is the local host's own)."""
    return [line for line in log.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]


def test_a_fan_out_logs_one_info_line_per_step_and_nothing_per_work_item(stopped_stack: LocalStack) -> None:
    lines = app_lines(stopped_stack.log("host"))
    assert not [line for line in lines if "Processing work item" in line]
    for step in ORCHESTRATION_STEPS:
        assert len([line for line in lines if line.endswith(step)]) == 1, step


def test_a_clean_stop_logs_nothing_at_warning_or_above(stopped_stack: LocalStack) -> None:
    lines = app_lines(stopped_stack.log("host"))
    assert [line for line in lines if re.search(r" (WARNING|ERROR|CRITICAL) ", line)] == []
    assert "Locally cancelled by application" not in stopped_stack.log("host")


def record(message: str, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("durabletask.worker", level, __file__, 1, message, (), None)


def test_only_the_cancellation_a_stop_asked_for_is_demoted() -> None:
    cancelled = "Error in work item stream: <_MultiThreadedRendezvous ...: Locally cancelled by application!>"
    clean_stop = CleanStopFilter()

    running = record(cancelled)
    clean_stop.filter(running)
    assert running.levelno == logging.WARNING  # not stopping: a cancelled stream is worth a warning

    clean_stop.stopping()
    other = record("Error in work item stream: connection reset")
    clean_stop.filter(other)
    assert other.levelno == logging.WARNING

    expected = record(cancelled)
    shown = clean_stop.filter(expected)
    assert (expected.levelno, expected.levelname, shown) == (logging.DEBUG, "DEBUG", False)
