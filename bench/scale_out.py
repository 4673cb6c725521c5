"""Backlog-driven scale-out of local Functions hosts: autoscaled from one replica against fixed replica counts.

Every replica is a Functions host process capped at ``per_replica`` concurrent activities
(``DTS_MAX_CONCURRENT_ACTIVITIES``), running the seed's I/O-bound work items; :class:`bench.autoscale.Autoscaler`
sizes the autoscaled runs with the KEDA rule's formula (target = ``per_replica`` activities per replica), and the
fixed runs are the same scaler with its minimum equal to its maximum.
"""

from __future__ import annotations

import logging
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

from durabletask.azuremanaged.client import DurableTaskSchedulerClient

from bench.autoscale import Autoscaler, Sample
from bench.processes import HOST, spawn, stop
from local_stack.ports import free_port, wait_for_port
from local_stack.scheduler.backlog import read_backlog


def scale_out(items: int, per_replica: int, maximum: int, repeat: int, delays: tuple[float, float]) -> dict[str, Any]:
    """Wall time of an ``items`` fan-out autoscaled from 1 replica and on fixed counts; scale-in once idle."""
    fixed_counts = sorted({max(1, maximum // 2), maximum})
    walls: dict[str, list[float]] = {"autoscaled": [], **{f"fixed_{n}": [] for n in fixed_counts}}
    autoscaled_runs: list[dict[str, Any]] = []
    scheduler_port = free_port()
    scheduler = spawn(["-m", "local_stack", "scheduler", "--port", str(scheduler_port), "--store", "memory"])
    try:
        if not wait_for_port(HOST, scheduler_port, 60):
            raise RuntimeError("the scheduler did not start")
        settings = replica_settings(scheduler_port, per_replica, delays)
        for _ in range(repeat):
            run = _run(scheduler_port, settings, items, per_replica, 1, maximum)
            walls["autoscaled"].append(run["wall_s"])
            autoscaled_runs.append(run)
            for n in fixed_counts:
                walls[f"fixed_{n}"].append(_run(scheduler_port, settings, items, per_replica, n, n)["wall_s"])
    finally:
        stop(scheduler)
    medians = {name: statistics.median(values) for name, values in walls.items()}
    best = min(fixed_counts, key=lambda n: medians[f"fixed_{n}"])
    return {
        "items": items,
        "per_replica": per_replica,
        "min_replicas": 1,
        "max_replicas": maximum,
        "delays_s": list(delays),
        "wall_s": medians,
        "best_fixed_replicas": best,
        "ratio_autoscaled_over_best_fixed": medians["autoscaled"] / medians[f"fixed_{best}"],
        "peak_replicas": [run["peak_replicas"] for run in autoscaled_runs],
        "seconds_to_min_after_done": [run["seconds_to_min_after_done"] for run in autoscaled_runs],
        "seconds_to_peak_connected": [run["seconds_to_peak_connected"] for run in autoscaled_runs],
        "timeline": autoscaled_runs[-1]["timeline"],
        "runs": walls,
    }


def replica_settings(scheduler_port: int, per_replica: int, delays: tuple[float, float]) -> dict[str, str]:
    """App settings of one replica: the scheduler, ``per_replica`` concurrent activities, the work items' delays."""
    endpoint = f"http://{HOST}:{scheduler_port}"
    return {
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": f"Endpoint={endpoint};TaskHub=default;Authentication=None",
        "DTS_MAX_CONCURRENT_ACTIVITIES": str(per_replica),
        "WORK_ITEM_DELAY_MIN_SECONDS": str(delays[0]),
        "WORK_ITEM_DELAY_MAX_SECONDS": str(delays[1]),
    }


def replica_starter(settings: dict[str, str]) -> Callable[[], subprocess.Popen[bytes]]:
    """What the scaler calls to add a replica: a Functions host process on a free port with ``settings``."""

    def start_replica() -> subprocess.Popen[bytes]:
        return spawn(["-m", "local_stack", "host", "--port", str(free_port()), "--quiet"], settings)

    return start_replica


def _run(
    scheduler_port: int, settings: dict[str, str], items: int, per_replica: int, minimum: int, maximum: int
) -> dict[str, Any]:
    """One fan-out with replicas between ``minimum`` and ``maximum``; for autoscaled runs, the scale-in after it."""
    address = f"{HOST}:{scheduler_port}"

    scaler = Autoscaler(
        address=address,
        start_replica=replica_starter(settings),
        stop_replica=stop,
        targets={"activity": per_replica},
        minimum=minimum,
        maximum=maximum,
    )
    with scaler, _client(address) as client:
        _wait(lambda: read_backlog(address)["workers"] == minimum, "replicas to connect")
        started = time.perf_counter()
        instance_id = client.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=list(range(1, items + 1)))
        state = client.wait_for_orchestration_completion(instance_id, timeout=900)
        wall = time.perf_counter() - started
        expected = items * (items + 1) * (2 * items + 1) // 6
        if state is None or state.get_output() is None or state.get_output()["sum"] != expected:
            raise RuntimeError(f"fan-out of {items} finished wrong: {state}")
        done_at = scaler.samples[-1].at if scaler.samples else 0.0
        _wait(lambda: len(scaler.replicas) == minimum, "scale-in to the minimum")
        back_at = scaler.samples[-1].at if scaler.samples else done_at
    peak = max((sample.replicas for sample in scaler.samples), default=minimum)
    return {
        "wall_s": wall,
        "peak_replicas": peak,
        "seconds_to_peak_connected": _first_at(scaler, lambda s: s.workers >= peak)
        - _first_at(scaler, lambda s: s.replicas >= peak),
        "seconds_to_min_after_done": max(0.0, back_at - done_at),
        "timeline": [[round(s.at, 2), s.pending, s.in_flight, s.replicas, s.workers] for s in scaler.samples],
    }


def _first_at(scaler: Autoscaler, condition: Callable[[Sample], bool]) -> float:
    """Seconds since the scaler started at its first poll that met ``condition`` (its last poll if none did)."""
    return next((sample.at for sample in scaler.samples if condition(sample)), scaler.samples[-1].at)


def _client(address: str) -> DurableTaskSchedulerClient:
    return DurableTaskSchedulerClient(
        host_address=address, taskhub="default", token_credential=None, secure_channel=False,
        logger=logging.getLogger("durabletask.client"),
    )  # fmt: skip


def _wait(predicate: Any, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")
