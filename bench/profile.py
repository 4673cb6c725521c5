"""``python -m bench.profile fan-out|signals [--size N] [--senders S] [--runs R]``: where the app spends the GIL.

Runs one scenario against the app and against its bare baseline, one after the other, each while ``py-spy
record --gil`` samples the serving process (the Functions host, the bare SDK worker or the bare ASGI service).
``--gil`` keeps only the thread holding the GIL, so the samples are the Python work that competes for it; the
report gives each side's GIL milliseconds per unit of work and the frames that own them, app beside bare.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.processes import ROOT, Stack
from bench.scenarios import _signal_over_http, _timed_fan_out_app, timed_fan_out_over_grpc

RATE = 250
"""Samples per second py-spy takes."""


def parse_raw(text: str) -> Counter[tuple[str, ...]]:
    """py-spy's raw (collapsed) output: one ``frame;frame;... count`` line per distinct stack."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[tuple(stack.split(";"))] += int(count)
    return stacks


def own_time(stacks: Counter[tuple[str, ...]], depth: int = 1) -> Counter[str]:
    """Samples by the innermost ``depth`` frames (where the GIL was held)."""
    owned: Counter[str] = Counter()
    for stack, count in stacks.items():
        owned[" < ".join(reversed(stack[-depth:]))] += count
    return owned


def inclusive_time(stacks: Counter[tuple[str, ...]], marker: str) -> Counter[str]:
    """Samples under each frame whose text contains ``marker`` (counted once per stack)."""
    under: Counter[str] = Counter()
    for stack, count in stacks.items():
        for frame in {frame for frame in stack if marker in frame}:
            under[frame] += count
    return under


def _profiled(pid: int, run: Callable[[], None], folder: Path, name: str) -> tuple[Counter[tuple[str, ...]], float]:
    out = folder / f"{name}.txt"
    spy = subprocess.Popen(  # noqa: S603 - py-spy from this venv, on our own child process
        [str(Path(sys.executable).parent / "py-spy"), "record", "--gil", "--nonblocking", "-r", str(RATE),
         "-f", "raw", "-o", str(out), "-p", str(pid)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip
    time.sleep(1.0)  # py-spy attaches
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    spy.send_signal(2)  # SIGINT: py-spy writes what it sampled and exits
    spy.wait(timeout=60)
    return parse_raw(out.read_text(errors="replace")), seconds


def _report(name: str, unit: str, units: int, stacks: Counter[tuple[str, ...]], seconds: float) -> None:
    total = sum(stacks.values())
    print(f"\n## {name}: {units} {unit} in {seconds:.2f} s ({units / seconds:.0f}/s); {total} GIL samples")
    print(f"GIL ms per 1,000 {unit}: {total / RATE * 1000 / units * 1000:.1f}")
    for frame, count in own_time(stacks).most_common(15):
        print(f"  {count / total:6.1%}  {frame}")
    for marker in ("durable_app", "functions_host", "bare_service", "interceptor", "threading.py"):
        for frame, count in inclusive_time(stacks, marker).most_common(6):
            print(f"  incl {count / total:6.1%}  {frame}")


def _repeated(once: Callable[[], object], runs: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(runs):
            once()

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["fan-out", "signals"])
    parser.add_argument("--size", type=int, default=None, help="fan-out items or signals (1,000 / 3,000)")
    parser.add_argument("--senders", type=int, default=32)
    parser.add_argument("--runs", type=int, default=1, help="runs per side, for sizes too small to sample in one")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        if args.scenario == "fan-out":
            n = args.size or 1000
            with Stack("app") as app, Stack("bare") as bare:
                _timed_fan_out_app(app, n)  # warm both sides
                timed_fan_out_over_grpc(bare, n)
                runs = {
                    "app": (app.worker.pid, lambda: _timed_fan_out_app(app, n)),
                    "bare SDK worker": (bare.worker.pid, lambda: timed_fan_out_over_grpc(bare, n)),
                }
                for name, (pid, once) in runs.items():
                    run = _repeated(once, args.runs)
                    _report(name, "activities", n * args.runs, *_profiled(pid, run, Path(folder), name.split()[0]))
        else:
            n = args.size or 3000
            with Stack("app") as app, Stack("asgi") as bare:
                for name, stack in (("app", app), ("bare ASGI service", bare)):
                    asyncio.run(_signal_over_http(stack.base_url, "profile-warm", 200, args.senders))

                    def once(stack: Stack = stack) -> None:
                        asyncio.run(_signal_over_http(stack.base_url, "profile", n, args.senders))

                    run = _repeated(once, args.runs)
                    profiled = _profiled(stack.worker.pid, run, Path(folder), name.split()[0])
                    _report(name, "signals", n * args.runs, *profiled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
