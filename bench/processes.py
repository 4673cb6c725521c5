"""Stacks to measure: a scheduler process plus either the app's Functions host or a bare SDK worker."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from durabletask.azuremanaged.client import DurableTaskSchedulerClient

from local_stack.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def spawn(arguments: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and modules
        [sys.executable, *arguments],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Stack:
    """One scheduler and the side under test: ``app`` (Functions host), ``bare`` (SDK worker) or ``asgi`` (the
    bare ASGI service of ``bench.bare_service``, an SDK worker in its process).

    ``store`` holds the scheduler's storage options: in memory unless a scenario measures the SQLite file.
    """

    kind: str
    settings: dict[str, str] = field(default_factory=dict)
    store: list[str] = field(default_factory=lambda: ["--store", "memory"])
    scheduler_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.http_port}/api"

    @property
    def worker(self) -> subprocess.Popen[bytes]:
        return self.processes[-1]

    def __enter__(self) -> Stack:
        scheduler = ["-m", "local_stack", "scheduler", "--port", str(self.scheduler_port), *self.store]
        self.processes.append(spawn(scheduler))
        if not wait_for_port(HOST, self.scheduler_port, 60):
            raise RuntimeError("the scheduler did not start")
        endpoint = f"http://{HOST}:{self.scheduler_port}"
        env = {
            "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": f"Endpoint={endpoint};TaskHub=default;Authentication=None",
            "WORK_ITEM_DELAY_MIN_SECONDS": "0",
            "WORK_ITEM_DELAY_MAX_SECONDS": "0",
            **self.settings,
        }
        if self.kind == "app":
            self.processes.append(spawn(["-m", "local_stack", "host", "--port", str(self.http_port), "--quiet"], env))
            wait_healthy(self.base_url)
        elif self.kind == "asgi":
            scheduler = f"{HOST}:{self.scheduler_port}"
            self.processes.append(spawn(["-m", "bench.bare_service", str(self.http_port), scheduler], env))
            wait_healthy(self.base_url)
            time.sleep(1.0)  # the worker connects beside the server
        else:
            self.processes.append(spawn(["-m", "bench.bare_worker", f"{HOST}:{self.scheduler_port}"], env))
            time.sleep(1.0)
        return self

    def __exit__(self, *_: object) -> None:
        for process in reversed(self.processes):
            stop(process)

    def client(self) -> DurableTaskSchedulerClient:
        return DurableTaskSchedulerClient(
            host_address=f"{HOST}:{self.scheduler_port}", taskhub="default", token_credential=None,
            secure_channel=False, logger=logging.getLogger("durabletask.client"),
        )  # fmt: skip

    def worker_rss(self) -> int:
        import psutil  # requirements-bench.txt: imported when measured, so the fast test tier can import this

        return psutil.Process(self.worker.pid).memory_info().rss


def wait_healthy(base_url: str, timeout: float = 60) -> float:
    """Seconds until ``/health`` answers 200."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{base_url} never became healthy")
