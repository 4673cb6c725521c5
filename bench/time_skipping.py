"""The workflow test kit's skipped time: durable time covered per second of wall time, target at least 10,000x.

Two of the shipped workflows at their real time scales, each in a :class:`durable_app.testing.WorkflowEnv` (the
environment's start and stop not counted): ``approval_workflow`` waiting out its longest timeout (30 days) with
no decision, and ``monitor_workflow`` checking a counter every hour until its rounds run out. Durable time
covered is how far the scheduler's clock moved while the instance ran; wall time is the test's wait.

``python -m bench.time_skipping [--quick] [--repeat N] [--out DIR]`` runs this row alone and writes
``time_skipping.json``; ``python -m bench`` runs it as scenario 12 with the others.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench import report
from durable_app.testing import WorkflowEnv

TARGET = 10_000
APPROVAL_TIMEOUT_SECONDS = 30 * 24 * 3600
MONITOR_INTERVAL_SECONDS = 3600
RESULTS = Path(__file__).resolve().parent / "results"


def run(quick: bool, repeat: int) -> dict[str, Any]:
    """Scenario 12: the approval's 30-day timeout and a monitor of 1,000 hourly rounds (20 with ``quick``)."""
    rounds = 20 if quick else 1000
    runs: dict[str, list[dict[str, float]]] = {"approval_timeout": [], "monitor": []}
    with WorkflowEnv() as env:
        for _ in range(repeat):
            runs["approval_timeout"].append(
                _covered(env, "approval_workflow", {"timeout_seconds": APPROVAL_TIMEOUT_SECONDS})
            )
            monitor = {"entity_key": "bench-watch", "target": 1, "interval_seconds": MONITOR_INTERVAL_SECONDS}
            runs["monitor"].append(_covered(env, "monitor_workflow", {**monitor, "max_rounds": rounds}))
    return {
        "monitor_rounds": rounds,
        "runs": runs,
        "speedup": {name: statistics.median(run["speedup"] for run in measured) for name, measured in runs.items()},
        "target": TARGET,
    }


def _covered(env: WorkflowEnv, name: str, request: dict[str, Any]) -> dict[str, float]:
    """Durable seconds the instance covered, the wall seconds that took, and their ratio."""
    durable_start = env.now()
    wall_start = time.perf_counter()
    result = env.wait(env.start(name, request), timeout=600)
    wall = time.perf_counter() - wall_start
    if result.status != "Completed":
        raise RuntimeError(f"{name} ended {result.status}: {result.failure}")
    durable = (env.now() - durable_start).total_seconds()
    return {"durable_s": durable, "wall_s": wall, "speedup": durable / wall}


def markdown_rows(result: dict[str, Any]) -> list[str]:
    """Section 12's rows of the report."""
    rows = []
    for name, label in (
        ("approval_timeout", "approval waiting out a 30-day timeout"),
        ("monitor", f"monitor, {result['monitor_rounds']:,} hourly rounds"),
    ):
        middle = sorted(result["runs"][name], key=lambda run: run["speedup"])[len(result["runs"][name]) // 2]
        rows.append(
            f"| 12. test kit: {label} | durable time per wall second | "
            f"{middle['durable_s']:,.0f} s in {middle['wall_s']:.2f} s = **{result['speedup'][name]:,.0f}x** | "
            f">= {result['target']:,}x |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.time_skipping", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmark code, not speed")
    parser.add_argument("--repeat", type=int, default=3, help="runs per workflow (default 3)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.getLogger("durabletask").setLevel(logging.WARNING)
    command = "python -m bench.time_skipping" + (" --quick" if args.quick else f" --repeat {args.repeat}")
    results = {"command": command, "machine": report.machine(), "time_skipping": run(args.quick, args.repeat)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "time_skipping.json").write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(markdown_rows(results["time_skipping"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
