"""The local stack as real subprocesses on free loopback ports, for end-to-end tests.

Each part runs exactly as ``make run`` starts it (``python -m local_stack scheduler|host|dashboard``), so
the tests exercise the same commands a user types. Parts can be killed and restarted one by one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from durabletask.azuremanaged.client import DurableTaskSchedulerClient

from local_stack.ports import free_port, wait_for_port
from tests.helpers.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT = 60.0


def wait_for_output(api: httpx.Client, status_url: str, timeout: float = 120) -> dict[str, Any]:
    """Poll an instance's status URL until it answers 200 (finished); 202 means still going."""

    def finished() -> httpx.Response | None:
        response = api.get(status_url)
        assert response.status_code in (200, 202), response.text
        return response if response.status_code == 200 else None

    return wait_until(finished, timeout, 0.1, f"{status_url} did not finish").json()


@dataclass
class LocalStack:
    """Scheduler + Functions host (+ optional dashboard) processes, with their logs in ``log_dir``."""

    log_dir: Path
    taskhub: str = "default"
    env: dict[str, str] = field(default_factory=dict)
    scheduler_args: list[str] = field(default_factory=lambda: ["--store", "memory"])
    scheduler_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    dashboard_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    root: Path = ROOT
    """The app the parts run: this checkout, or a copy of it."""

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.scheduler_port}"

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.http_port}/api"

    @property
    def dashboard_url(self) -> str:
        return f"http://{HOST}:{self.dashboard_port}"

    def direct_client(self) -> DurableTaskSchedulerClient:
        """A client talking to the stack's scheduler directly, bypassing the HTTP API."""
        return DurableTaskSchedulerClient(
            host_address=self.endpoint.removeprefix("http://"),
            taskhub=self.taskhub,
            token_credential=None,
            secure_channel=False,
        )

    def process_env(self) -> dict[str, str]:
        """The environment every part sees: the stack's connection string plus the test's overrides."""
        env = dict(os.environ)
        env["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"] = (
            f"Endpoint={self.endpoint};TaskHub={self.taskhub};Authentication=None"
        )
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.env)
        return env

    def start(self, dashboard: bool = False) -> LocalStack:
        self.start_scheduler()
        self.start_host()
        if dashboard:
            self.start_dashboard()
        return self

    def start_scheduler(self) -> None:
        self._spawn("scheduler", ["scheduler", "--port", str(self.scheduler_port), *self.scheduler_args])
        self._await_port("scheduler", self.scheduler_port)

    def start_host(self) -> None:
        self._spawn("host", ["host", "--port", str(self.http_port)])
        self._await_port("host", self.http_port)

    def start_dashboard(self) -> None:
        arguments = ["--port", str(self.dashboard_port), "--endpoint", self.endpoint, "--taskhub", self.taskhub]
        self._spawn("dashboard", ["dashboard", *arguments])
        self._await_port("dashboard", self.dashboard_port)

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        """Block until the host reports its hosted worker connected to the scheduler."""

        def healthy() -> bool:
            try:
                return httpx.get(f"{self.base_url}/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout, 0.2, f"the host never became healthy; see {self.log_dir}")

    def kill(self, part: str) -> None:
        """SIGKILL one part, as a crash would: no cleanup runs."""
        process = self.processes.pop(part)
        process.kill()
        process.wait(timeout=30)

    @contextmanager
    def running(self, dashboard: bool = False) -> Iterator[LocalStack]:
        """The stack started and healthy for the block, stopped after it whatever happens."""
        try:
            self.start(dashboard=dashboard)
            self.wait_healthy()
            yield self
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop every part the way Ctrl-C would, the host first, killing whatever does not stop in time."""
        for part in ("dashboard", "host", "scheduler"):
            process = self.processes.pop(part, None)
            if process is None:
                continue
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)

    def log(self, part: str) -> str:
        return (self.log_dir / f"{part}.log").read_text(errors="replace")

    def _spawn(self, part: str, arguments: list[str]) -> None:
        command = [sys.executable, "-m", "local_stack", *arguments]
        with (self.log_dir / f"{part}.log").open("ab") as log:
            self.processes[part] = subprocess.Popen(
                command, cwd=self.root, env=self.process_env(), stdout=log, stderr=subprocess.STDOUT
            )

    def _await_port(self, part: str, port: int) -> None:
        process = self.processes[part]

        def listening() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the {part} exited with {process.returncode}:\n{self.log(part)}")
            return wait_for_port(HOST, port, 0.5)

        wait_until(listening, START_TIMEOUT, 0, lambda: f"the {part} did not listen on {port}:\n{self.log(part)}")
