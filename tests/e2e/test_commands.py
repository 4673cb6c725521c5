"""``python -m local_stack`` as a user runs it: the whole stack in one command, Ctrl-C, ports already taken."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from local_stack.ports import free_port, wait_for_port
from tests.e2e.test_local_stack import start_fan_out
from tests.helpers.polling import wait_until
from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import ROOT, wait_for_output

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def listener() -> Iterator[int]:
    """A port something else is already listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def local_stack(*arguments: str, **popen: object) -> subprocess.Popen[str]:
    env = {**os.environ, **INSTANT_WORK}
    return subprocess.Popen([sys.executable, "-m", "local_stack", *arguments], cwd=ROOT, env=env, text=True, **popen)


@pytest.mark.parametrize(
    ("arguments", "option"),
    [
        (["scheduler", "--port", "{port}"], "--port"),
        (["host", "--port", "{port}"], "--port"),
        (["run", "--scheduler-port", "{port}", "--http-port", "0", "--dashboard-port", "0"], "--scheduler-port"),
        (["run", "--scheduler-port", "{free}", "--http-port", "{port}", "--dashboard-port", "0"], "--http-port"),
    ],
)
def test_a_port_in_use_is_a_clear_error(listener: int, arguments: list[str], option: str) -> None:
    filled = [argument.format(port=listener, free=free_port()) for argument in arguments]
    process = local_stack(*filled, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2, output
    assert f"127.0.0.1:{listener}: the port is in use" in output
    assert f"pass {option} <port>" in output
    assert "Traceback" not in output


def test_run_serves_the_app_and_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    scheduler_port, http_port = free_port(), free_port()
    arguments = ["--scheduler-port", str(scheduler_port), "--http-port", str(http_port), "--dashboard-port", "0"]
    arguments += ["--data-file", str(tmp_path / "state.sqlite3")]  # the default store, sqlite
    with running(arguments) as process:
        banner = read_until(process, "Scheduler state")
        assert f"http://127.0.0.1:{http_port}/api" in banner
        assert f"Scheduler state     {tmp_path / 'state.sqlite3'}" in banner
        with httpx.Client(base_url=f"http://127.0.0.1:{http_port}/api", timeout=30) as api:
            wait_healthy(api)
            started = start_fan_out(api, [1, 2, 3])
            assert wait_for_output(api, started["statusQueryGetUri"])["output"]["sum"] == 14
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
        assert process.returncode == 0
        assert not wait_for_port("127.0.0.1", http_port, 0.5)
        assert not wait_for_port("127.0.0.1", scheduler_port, 0.5)

    with running(arguments) as process:  # the next `make run` finds the finished orchestration again
        read_until(process, "Scheduler (gRPC)")
        with httpx.Client(timeout=30) as api:
            again = api.get(started["statusQueryGetUri"])
            assert (again.status_code, again.json()["output"]["sum"]) == (200, 14)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
        assert process.returncode == 0


def test_run_stops_at_once_on_a_data_file_it_cannot_use(tmp_path: Path) -> None:
    data_file = tmp_path / "notes.sqlite3"
    data_file.write_bytes(b"my notes, not a database" * 200)
    arguments = ["--scheduler-port", str(free_port()), "--http-port", str(free_port()), "--dashboard-port", "0"]
    with running([*arguments, "--data-file", str(data_file)]) as process:
        output, _ = process.communicate(timeout=25)  # well before the 30 s the scheduler is given to start
    assert process.returncode == 1, output
    assert f"The scheduler cannot use its data file: {data_file} is not a readable SQLite database" in output
    assert "the scheduler did not start" in output and "Traceback" not in output
    assert data_file.read_bytes() == b"my notes, not a database" * 200


@contextmanager
def running(arguments: list[str]) -> Iterator[subprocess.Popen[str]]:
    """``python -m local_stack run`` with ``arguments``, killed if the test leaves it running."""
    process = local_stack("run", *arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def read_until(process: subprocess.Popen[str], marker: str, timeout: float = 90) -> str:
    """The output so far, once ``marker`` appears in it."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError(f"{marker!r} never printed:\n{''.join(lines)}")


def wait_healthy(api: httpx.Client, timeout: float = 60) -> None:
    wait_until(lambda: api.get("/health").status_code == 200, timeout, 0.2, "the hosted worker never connected")
