"""``make run`` (``python -m local_stack run``) while it starts: a host that dies is reported at once, and a
Ctrl-C before the stack is up stops the scheduler too, so the next run finds its port free."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local_stack.ports import free_port, wait_for_port
from tests.helpers.stack import ROOT

SLOW_HOST = """
import sys, time
if sys.argv[1:2] == ["host"]:
    time.sleep(120)  # a host still importing the app: the stack is not up yet
"""


@contextmanager
def run(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``python -m local_stack run`` on free ports with ``env`` added; killed if the test leaves it running."""
    scheduler_port = free_port()
    arguments = ["--scheduler-port", str(scheduler_port), "--http-port", str(free_port()), "--dashboard-port", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "local_stack", "run", *arguments, "--store", "memory"],
        cwd=ROOT,
        env={**os.environ, **env},
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process, scheduler_port
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def test_a_host_that_dies_while_starting_is_reported_at_once() -> None:
    with run({"FUNCTIONS_WORKER_PROCESS_COUNT": "many"}) as (process, scheduler_port):
        output, _ = process.communicate(timeout=45)  # well before the 60 s the host is given to start
    assert process.returncode == 1, output
    assert "FUNCTIONS_WORKER_PROCESS_COUNT" in output
    assert "Stopped: the Functions host did not start" in output
    assert not wait_for_port("127.0.0.1", scheduler_port, 0.5)  # the scheduler was stopped too


def test_ctrl_c_while_the_host_starts_stops_the_scheduler(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(SLOW_HOST)
    with run({"PYTHONPATH": str(tmp_path)}) as (process, scheduler_port):
        assert wait_for_port("127.0.0.1", scheduler_port, 60)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "Local stack stopped" in output.splitlines()[-1]
    assert "Local stack running" not in output and "Traceback" not in output
    assert not wait_for_port("127.0.0.1", scheduler_port, 0.5)
