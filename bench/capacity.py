"""Capacity per replica: sustained activities/s of one replica by kind of work, and the replicas a backlog needs.

One replica is one :class:`bench.processes.Stack` ``"app"``: a local scheduler and one Functions host with the app's
default concurrency settings, as deployed. Each kind of work runs as one ``fan_out_fan_in_orchestrator`` big
enough for the replica's own limit to show: the seed's I/O-bound items fill the activity thread pool, the
CPU-bound items (``WORK_ITEM_CPU_UNITS``, no sleep) the cores, once with one Python worker process and once with
two (``FUNCTIONS_WORKER_PROCESS_COUNT=2``), since one process runs Python code on one core at a time.

``python -m bench.capacity [--quick] [--repeat N] [--out DIR]`` runs this scenario alone and writes
``capacity.json`` and ``capacity.md``; ``python -m bench`` runs it as scenario 10 with the others.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import report
from bench.processes import HOST, Stack
from bench.scenarios import timed_fan_out_over_grpc
from durable_app.settings import WorkerConcurrency
from durable_app.worker.drills import burn_cpu
from local_stack.scheduler.backlog import read_backlog

BACKLOGS = (10_000, 100_000)
DEADLINES_MINUTES = (1, 5, 15)
KINDS = ("io_bound", "cpu_bound", "cpu_bound_2_processes")
RESULTS = Path(__file__).resolve().parent / "results"


def run(quick: bool, repeat: int) -> dict[str, Any]:
    """Scenario 10 at the sizes ``python -m bench`` uses: tiny with ``quick``, else a saturating fan-out per kind."""
    if quick:
        return capacity(io_items=20, cpu_items=10, cpu_units=2, repeat=1, delays=(0.1, 0.3))
    return capacity(io_items=1000, cpu_items=500, cpu_units=25, repeat=repeat, delays=(0.5, 2.0))


def capacity(io_items: int, cpu_items: int, cpu_units: int, repeat: int, delays: tuple[float, float]) -> dict[str, Any]:
    """Median activities/s of one replica per kind (runs interleaved); the replicas each backlog and deadline need."""
    cpu = {"WORK_ITEM_CPU_UNITS": str(cpu_units)}
    settings = {
        "io_bound": {"WORK_ITEM_DELAY_MIN_SECONDS": str(delays[0]), "WORK_ITEM_DELAY_MAX_SECONDS": str(delays[1])},
        "cpu_bound": cpu,
        "cpu_bound_2_processes": {**cpu, "FUNCTIONS_WORKER_PROCESS_COUNT": "2"},
    }
    items = {"io_bound": io_items, "cpu_bound": cpu_items, "cpu_bound_2_processes": cpu_items}
    runs: dict[str, list[float]] = {kind: [] for kind in KINDS}
    load_average = os.getloadavg()[0]
    with ExitStack() as stacks:
        replicas = {kind: stacks.enter_context(Stack("app", settings=settings[kind])) for kind in KINDS}
        for kind, replica in replicas.items():
            _wait_for_workers(replica, 2 if kind == "cpu_bound_2_processes" else 1)
            timed_fan_out_over_grpc(replica, 10)  # warm-up: connections and first-call costs stay out of the rate
        for _ in range(repeat):
            for kind, replica in replicas.items():
                runs[kind].append(items[kind] / timed_fan_out_over_grpc(replica, items[kind]))
    rates = {kind: statistics.median(values) for kind, values in runs.items()}
    defaults = WorkerConcurrency()
    return {
        "items": items,
        "delays_s": list(delays),
        "cpu_units_per_item": cpu_units,
        "cpu_ms_per_item": cpu_milliseconds(cpu_units),
        "activity_threads": defaults.thread_pool_workers,
        "concurrent_activities": defaults.concurrent_activities,
        "repeat": repeat,
        "load_average_at_start": load_average,
        "activities_per_second": rates,
        "two_processes_over_one": rates["cpu_bound_2_processes"] / rates["cpu_bound"],
        "replicas_needed": {kind: _replicas_table(rates[kind]) for kind in KINDS},
        "runs": runs,
    }


def _replicas_table(rate: float) -> dict[str, dict[str, int]]:
    """Replicas needed at ``rate`` activities/s each, by backlog then deadline in minutes (JSON keys)."""
    return {
        str(backlog): {str(minutes): replicas_needed(backlog, rate, minutes * 60) for minutes in DEADLINES_MINUTES}
        for backlog in BACKLOGS
    }


def replicas_needed(backlog: int, rate_per_replica: float, deadline_seconds: float) -> int:
    """``ceil(n / (rate x T))``: how many replicas of ``rate_per_replica`` activities/s clear ``backlog`` in time."""
    if rate_per_replica <= 0 or deadline_seconds <= 0:
        raise ValueError("the rate and the deadline must be positive")
    return math.ceil(backlog / (rate_per_replica * deadline_seconds))


def cpu_milliseconds(units: int, tries: int = 5) -> float:
    """Fastest of ``tries`` runs of one item's CPU work in this process: what an item costs a core left to itself."""
    fastest = math.inf
    for _ in range(tries):
        started = time.perf_counter()
        burn_cpu(units)
        fastest = min(fastest, time.perf_counter() - started)
    return fastest * 1000


def _wait_for_workers(replica: Stack, count: int, timeout: float = 120) -> None:
    """Wait until ``count`` DTS workers (one per worker process) hold a work-item stream on the replica's scheduler."""
    deadline = time.monotonic() + timeout
    while read_backlog(f"{HOST}:{replica.scheduler_port}")["workers"] < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} worker process(es) never connected")
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmark code, not speed")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved runs per kind (default 2)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.getLogger("durabletask").setLevel(logging.WARNING)
    results = {
        "command": "python -m bench.capacity" + (" --quick" if args.quick else f" --repeat {args.repeat}"),
        "machine": report.machine(),
        "capacity": run(args.quick, args.repeat),
    }
    report.write_capacity(results, args.out)
    print(report.capacity_markdown(results))
    print(f"Written to {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
