"""Scenario 11: the app on Python 3.13 against 3.11, in one run: cold start and fan-out throughput.

Each configuration is the app's Functions host (``python -m local_stack host``) started by that Python's venv
(.venv for 3.11, .venv-3.13 for 3.13, which ``make bench`` sets up) against one shared scheduler; the two run
one after the other, A B A B, never at once. Cold start is process start to ``/api/health`` answering 200 (the
app imported, its hosted DTS worker connected); throughput is a zero-delay fan-out started over HTTP, from the
POST to its checked result. Azure's own 3.13 gains (Microsoft reports faster cold starts than 3.11) come from its
worker and platform and are not measured here: this is the app's own code on each interpreter.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from durabletask.azuremanaged.client import DurableTaskSchedulerClient

from bench.processes import HOST, ROOT, spawn, stop, wait_healthy
from local_stack.ports import free_port, wait_for_port

PYTHON_3_13 = ROOT / ".venv-3.13" / "bin" / "python"


def interpreters() -> dict[str, Path]:
    """The 3.11 this bench runs on and the 3.13 venv, when both are here."""
    found = {f"{sys.version_info.major}.{sys.version_info.minor}": Path(sys.executable)}
    if PYTHON_3_13.exists():
        found["3.13"] = PYTHON_3_13
    return found


def run(quick: bool, repeat: int) -> dict[str, Any]:
    pythons = interpreters()
    if set(pythons) != {"3.11", "3.13"}:
        return {"skipped": f"needs Python 3.11 and .venv-3.13 (found {sorted(pythons)}): run `make runtime-tools`"}
    items = 50 if quick else 1000
    cold: dict[str, list[float]] = {version: [] for version in pythons}
    rates: dict[str, list[float]] = {version: [] for version in pythons}
    scheduler_port = free_port()
    scheduler = spawn(["-m", "local_stack", "scheduler", "--port", str(scheduler_port), "--store", "memory"])
    try:
        if not wait_for_port(HOST, scheduler_port, 60):
            raise RuntimeError("the scheduler did not start")
        for _ in range(repeat):
            for version, python in pythons.items():
                seconds, rate = _one_run(python, scheduler_port, items)
                cold[version].append(seconds)
                rates[version].append(rate)
    finally:
        stop(scheduler)
    cold_s = {version: statistics.median(values) for version, values in cold.items()}
    per_second = {version: statistics.median(values) for version, values in rates.items()}
    return {
        "fan_out_size": items,
        "cold_start_s": cold_s,
        "activities_per_second": per_second,
        "cold_start_313_over_311": cold_s["3.13"] / cold_s["3.11"],
        "throughput_313_over_311": per_second["3.13"] / per_second["3.11"],
        "runs": {"cold_start_s": cold, "activities_per_second": rates},
    }


def _one_run(python: Path, scheduler_port: int, items: int) -> tuple[float, float]:
    """Start the app's host on ``python``: seconds to healthy, then activities/s of one fan-out of ``items``."""
    port = free_port()
    endpoint = f"http://{HOST}:{scheduler_port}"
    env = {
        **os.environ,
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": f"Endpoint={endpoint};TaskHub=default;Authentication=None",
        "WORK_ITEM_DELAY_MIN_SECONDS": "0",
        "WORK_ITEM_DELAY_MAX_SECONDS": "0",
    }
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - the project's own venv interpreters and module
        [str(python), "-m", "local_stack", "host", "--port", str(port), "--quiet"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_healthy(f"http://{HOST}:{port}/api")
        cold_start = time.perf_counter() - started
        client = DurableTaskSchedulerClient(
            host_address=f"{HOST}:{scheduler_port}", taskhub="default", token_credential=None, secure_channel=False
        )
        with client, httpx.Client(timeout=60) as http:
            began = time.perf_counter()
            response = http.post(f"http://{HOST}:{port}/api/orchestrators/fan_out_fan_in_orchestrator",
                                 json={"count": items})  # fmt: skip
            response.raise_for_status()
            state = client.wait_for_orchestration_completion(response.json()["id"], timeout=600)
            seconds = time.perf_counter() - began
        expected = items * (items + 1) * (2 * items + 1) // 6
        if state is None or state.get_output() is None or state.get_output()["sum"] != expected:
            raise RuntimeError(f"fan-out of {items} on {python} ended with {state}")
        return cold_start, items / seconds
    finally:
        stop(process)


def markdown_rows(result: dict[str, Any]) -> list[str]:
    """Section 11's rows of the report."""
    if "skipped" in result:
        return [f"| 11. Python 3.13 / 3.11 | skipped | {result['skipped']} | |"]
    cold, rates = result["cold_start_s"], result["activities_per_second"]
    return [
        f"| 11. Python 3.13 / 3.11 | cold start: process start to healthy | "
        f"{cold['3.13']:.2f} s / {cold['3.11']:.2f} s = **{result['cold_start_313_over_311']:.2f}x** | |",
        f"| 11. Python 3.13 / 3.11, fan-out N={result['fan_out_size']} | activities/s | "
        f"{rates['3.13']:.0f} / {rates['3.11']:.0f} = **{result['throughput_313_over_311']:.2f}x** | |",
    ]
