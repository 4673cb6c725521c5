"""``python -m bench [--quick] [--repeat N] [--rounds N] [--max-rounds N] [--out DIR]``: all scenarios, a report."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from bench import capacity, python_versions, report, scale_out, scenarios, time_skipping
from bench.rounds import RoundPolicy

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmark code, not speed")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs per configuration (default 3)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="least interleaved rounds of a row with a target (default 5)"
    )
    parser.add_argument("--max-rounds", type=int, default=15, help="most rounds of a row with a target (default 15)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.getLogger("durabletask").setLevel(logging.WARNING)  # the SDK logs every call at INFO
    repeat = 1 if args.quick else args.repeat
    sizes = [10, 50] if args.quick else [100, 1000, 5000]
    started = time.perf_counter()
    rounds = _round_policies(args)
    results = {
        "command": "python -m bench"
        + (" --quick" if args.quick else f" --repeat {repeat} --rounds {args.rounds} --max-rounds {args.max_rounds}"),
        "repeat": repeat,
        "rounds": {name: vars(policy) for name, policy in rounds.items()},
        "machine": report.machine(),
        "load_average_at_start": os.getloadavg()[0],
        "fan_out_throughput": _step("fan-out throughput", scenarios.fan_out_throughput, sizes, rounds["fan_out"]),
        "io_bound_fan_out": _step("I/O-bound fan-out", scenarios.io_bound_fan_out, 10 if args.quick else 100, repeat),
        "signal_rate": _step(
            "signal rate", scenarios.signal_rate, 40 if args.quick else 1000, [1, 32], rounds["signal_rate"]
        ),
        "signal_batch_rate": _step(
            "signal batches",
            scenarios.signal_batch_rate,
            40 if args.quick else 2000,
            10 if args.quick else 1000,
            10 if args.quick else 100,
            rounds["signal_batch_rate"],
        ),
        "start_batch_rate": _step(
            "start batches", scenarios.start_batch_rate, 20 if args.quick else 1000, 10 if args.quick else 500, repeat
        ),
        "persistence": _step(
            "persistent scheduler",
            scenarios.persistence_cost,
            50 if args.quick else 1000,
            40 if args.quick else 1000,
            32,
            repeat,
        ),
        "dashboard": _step(
            "dashboard at scale",
            scenarios.dashboard_at_scale,
            60 if args.quick else 100,
            200 if args.quick else 10_000,
            3 if args.quick else 10,
        ),
        "http_latency": _step("HTTP latency", scenarios.http_latency, 32, 2 if args.quick else 20),
        "cold_start": _step("cold start", scenarios.cold_start, repeat),
        "telemetry": _step(
            "telemetry cost", scenarios.telemetry_cost, 50 if args.quick else 1000, 10 if args.quick else 100, repeat
        ),
        "scale_out": _step(
            "backlog-driven scale-out",
            scale_out.scale_out,
            40 if args.quick else 1000,
            5 if args.quick else 25,
            3 if args.quick else 8,
            1 if args.quick else min(repeat, 2),
            (0.1, 0.3) if args.quick else (0.5, 2.0),
        ),
        "capacity": _step("capacity per replica", capacity.run, args.quick, repeat),
        "python_versions": _step("Python 3.13 against 3.11", python_versions.run, args.quick, repeat),
        "time_skipping": _step("test kit time skipping", time_skipping.run, args.quick, repeat),
    }
    results["total_seconds"] = time.perf_counter() - started
    report.write(results, args.out)
    print(report.markdown(results))
    print(f"Written to {args.out}", flush=True)
    return 0


ROUND_SECONDS = {"fan_out": 420.0, "signal_rate": 180.0, "signal_batch_rate": 90.0}
"""Seconds after which an adaptive scenario starts no round beyond its minimum: the bench stays near 25 minutes."""


def _round_policies(args: argparse.Namespace) -> dict[str, RoundPolicy]:
    """The rounds of the rows with a target; ``--quick`` takes two, enough to exercise the statistics."""
    if args.quick:
        return {name: RoundPolicy(min_rounds=2, max_rounds=2, seconds=0) for name in ROUND_SECONDS}
    return {
        name: RoundPolicy(min_rounds=args.rounds, max_rounds=max(args.rounds, args.max_rounds), seconds=seconds)
        for name, seconds in ROUND_SECONDS.items()
    }


def _step(name: str, scenario, *arguments):  # type: ignore[no-untyped-def]
    print(f"== {name}", flush=True)
    started = time.perf_counter()
    result = scenario(*arguments)
    print(f"   done in {time.perf_counter() - started:.0f} s", flush=True)
    return result


if __name__ == "__main__":
    sys.exit(main())
