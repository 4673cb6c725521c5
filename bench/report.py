"""Results as JSON, a Markdown table and PNG plots under ``bench/results/``."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import python_versions, time_skipping
from bench.rounds import RatioSummary, cell, floor_cell, verdict


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "os": platform.platform()}


def write(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / "report.md").write_text(markdown(results))
    _plot_throughput(results["fan_out_throughput"], out / "fan_out_throughput.png")
    _plot_latency(results["http_latency"], out / "http_latency.png")
    _plot_scale_out(results["scale_out"], out / "scale_out.png")
    write_capacity(results, out)


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        "# Benchmark report",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}. Command: `{r['command']}`.",
        f"1-minute load average {r['load_average_at_start']:.1f} at the start. Rows with a target: the median of "
        "their interleaved rounds' ratios (A B per round; fan-outs of 100 items: 10 pairs per round), its "
        "distribution-free confidence interval, and the lowest and highest round; met only where the interval's "
        f"lower bound meets the target. Rounds per row: {_round_range(r)}, until the interval settles the target. "
        "A/A: the same rounds' ratio of the baseline to a twin of itself, with its interval: the noise floor. "
        f"Other rows: medians of {r['repeat']} interleaved runs per configuration, the rounds' ratios in brackets.",
        "",
        "| scenario | measure | result | target |",
        "|---|---|---|---|",
    ]
    fan_out = r["fan_out_throughput"]
    for n, rounds in fan_out["ratio_rounds"].items():
        app, bare = fan_out["activities_per_second"]["app"][n], fan_out["activities_per_second"]["bare"][n]
        floor = floor_cell(fan_out["noise_floor"].get(n))
        lines.append(
            f"| 1. fan-out N={n} | activities/s app / bare | {app:.0f} / {bare:.0f}; {cell(rounds)}{floor} | "
            f"{verdict(rounds, '>= 1.0x')} |"
        )
    io = r["io_bound_fan_out"]
    lines += [
        f"| 2. I/O fan-out, {io['items']} items of 0.5-2 s | wall time app defaults / SDK defaults | "
        f"{io['wall_s']['app_defaults']:.2f} s / {io['wall_s']['sdk_defaults']:.2f} s "
        f"(**{io['speed_up_over_sdk_defaults']:.1f}x** faster) | |",
        f"| 2. I/O fan-out | app wall / longest delay (2 s) | **{io['app_over_longest_delay']:.2f}x** | <= 1.5x |",
    ]
    signals = r["signal_rate"]
    for senders, rounds in signals["ratio_rounds"].items():
        app = signals["signals_per_second"][f"app_{senders}"]
        bare = signals["signals_per_second"][f"asgi_{senders}"]
        floor = floor_cell(signals["noise_floor"][senders])
        lines.append(
            f"| 3. counter signals over HTTP, {senders} sender(s) | signals/s app / bare ASGI service | "
            f"{app:.0f} / {bare:.0f}; {cell(rounds)}{floor} | {verdict(rounds, '>= 0.95x')} |"
        )
    signals, starts = r["signal_batch_rate"], r["start_batch_rate"]
    signals_label = f"counter signals, batches of {signals['batch_size']} over HTTP, 1 sender, {signals['keys']} keys"
    starts_label = f"orchestration starts, batches of {starts['batch_size']} over HTTP, 1 sender"
    lines += _batch_rows(signals, "signals", signals_label, ">= 2x")
    lines += _batch_rows(starts, "starts", starts_label, "")
    stored = r["persistence"]
    for measure, label in (
        ("fan_out", f"fan-out N={stored['fan_out_size']}, activities/s"),
        ("signals", f"{stored['senders']} direct senders, signals/s"),
    ):
        sqlite, memory = stored["per_second"][f"sqlite_{measure}"], stored["per_second"][f"memory_{measure}"]
        ratio = stored["ratio_sqlite_over_memory"][measure]
        spread = _round_spread(stored["runs"][f"sqlite_{measure}"], stored["runs"][f"memory_{measure}"])
        lines.append(
            f"| 4. persistent scheduler, {label} | SQLite file / in memory | "
            f"{sqlite:.0f} / {memory:.0f} = **{ratio:.2f}x** {spread} | >= 0.7x |"
        )
    lines.append(f"| 4. persistent scheduler | data file after the runs | {stored['data_file_mb']:.1f} MB | |")
    dashboard = r["dashboard"]
    small, large = (str(size) for size in dashboard["instances"])
    for page, ratio in dashboard["ratio_large_over_small"].items():
        lines.append(
            f"| 5. dashboard, {page.replace('_', ' ')} | median ms with {int(large):,} / {int(small):,} instances | "
            f"{dashboard['median_ms'][large][page]:.1f} / {dashboard['median_ms'][small][page]:.1f} = {ratio:.1f}x | |"
        )
    latency = r["http_latency"]
    for name, cut in latency["milliseconds"].items():
        lines.append(
            f"| 6. {name}, {latency['clients']} clients | p50 / p95 / p99 ms | "
            f"{cut['p50']:.1f} / {cut['p95']:.1f} / {cut['p99']:.1f} | |"
        )
    cold = r["cold_start"]
    lines += [
        f"| 7. resources | peak RSS of the Function App, largest fan-out | "
        f"{fan_out['peak_rss_mb_largest_fan_out']:.0f} MB | |",
        f"| 7. cold start | process start to healthy / bare `import azure.functions` | "
        f"{cold['app_to_healthy_s']:.2f} s / {cold['bare_import_s']:.2f} s = {cold['ratio']:.1f}x | |",
    ]
    telemetry = r["telemetry"]
    off = telemetry["activities_per_second"]["off"]
    for name, label in (("on", "every span and log"), ("on_sampled_10", "10% of traces sampled")):
        lines.append(
            f"| 8. telemetry, fan-out N={telemetry['fan_out_size']} | activities/s exporting {label} / off | "
            f"{telemetry['activities_per_second'][name]:.0f} / {off:.0f} = "
            f"**{telemetry['ratio_over_off'][name]:.2f}x** "
            f"{_round_spread(telemetry['runs'][name], telemetry['runs']['off'])} | |"
        )
    lines.append(
        f"| 8. telemetry, I/O fan-out of {telemetry['io_bound_items']} | wall time exporting / off | "
        f"{telemetry['io_bound_wall_s']['on']:.2f} s / {telemetry['io_bound_wall_s']['off']:.2f} s = "
        f"**{telemetry['io_bound_wall_on_over_off']:.2f}x** | |"
    )
    lines += _scale_out_rows(r["scale_out"])
    lines += _capacity_rows(r["capacity"])
    lines += python_versions.markdown_rows(r["python_versions"])
    lines += time_skipping.markdown_rows(r["time_skipping"])
    lines.append("")
    return "\n".join(lines)


def _batch_rows(batch: dict[str, Any], unit: str, label: str, target: str) -> list[str]:
    """Section 3, batches: one HTTP sender posting batches of ``unit`` against direct single-call gRPC senders.

    Rows with rounds of their own (signals) carry their interval; the others, their rounds' spread."""
    rates = batch[f"{unit}_per_second"]
    rows = []
    for senders, ratio in batch["ratio_batch_over_direct"].items():
        rounds = batch.get("ratio_rounds", {}).get(senders)
        direct = rates[f"direct_{senders}"]
        if rounds is None:
            result = f"{rates['batch']:.0f} / {direct:.0f} = **{ratio:.2f}x** "
            result += _round_spread(batch["runs"]["batch"], batch["runs"][f"direct_{senders}"])
        else:
            result = f"{rates['batch']:.0f} / {direct:.0f}; {cell(rounds)}"
        target_cell = verdict(rounds, target) if rounds and target else target
        rows.append(f"| 3. {label} | {unit}/s batch / direct gRPC {senders} sender(s) | {result} | {target_cell} |")
    return rows


def _round_spread(a_runs: list[float], b_runs: list[float]) -> str:
    """The lowest and highest ratio of runs taken in the same round, for rows with a fixed number of rounds."""
    summary = RatioSummary.of([a / b for a, b in zip(a_runs, b_runs, strict=True)])
    return f"(rounds {summary.lowest:.2f}-{summary.highest:.2f})"


def _round_range(r: dict[str, Any]) -> str:
    """The fewest and most rounds the rows with a target took."""
    counts = [
        summary["rounds"]
        for name in ("fan_out_throughput", "signal_rate", "signal_batch_rate")
        for summary in r[name]["ratio_rounds"].values()
    ]
    return f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"


def _scale_out_rows(scale: dict[str, Any]) -> list[str]:
    """Section 9: the autoscaled fan-out against the best fixed replica count (reported, not a pass/fail)."""
    walls = scale["wall_s"]
    best = scale["best_fixed_replicas"]
    ratio = scale["ratio_autoscaled_over_best_fixed"]
    connected = ", ".join(f"{seconds:.1f}" for seconds in scale["seconds_to_peak_connected"])
    back_to_min = ", ".join(f"{seconds:.1f}" for seconds in scale["seconds_to_min_after_done"])
    fixed = " / ".join(
        f"{name.removeprefix('fixed_')}: {seconds:.1f} s" for name, seconds in walls.items() if name != "autoscaled"
    )
    delays = "-".join(f"{delay:g}" for delay in scale["delays_s"])
    return [
        f"| 9. scale-out, {scale['items']} items of {delays} s, {scale['per_replica']} activities per replica | "
        f"wall time autoscaled from 1 replica / best fixed ({best} replicas) | "
        f"{walls['autoscaled']:.1f} s / {walls[f'fixed_{best}']:.1f} s = **{ratio:.2f}x** "
        f"| <= 1.5x |",
        f"| 9. scale-out | wall time on fixed replica counts | {fixed} | |",
        f"| 9. scale-out | peak replicas (max {scale['max_replicas']}); seconds from their start to all connected; "
        f"seconds from done to {scale['min_replicas']} replica | "
        f"{', '.join(map(str, scale['peak_replicas']))}; {connected}; {back_to_min} | |",
    ]


CAPACITY_KINDS = {
    "io_bound": "I/O-bound",
    "cpu_bound": "CPU-bound, 1 worker process",
    "cpu_bound_2_processes": "CPU-bound, 2 worker processes",
}
"""Scenario 10's kinds of work (keys of its results) and their labels in the tables."""


def _capacity_rows(capacity: dict[str, Any]) -> list[str]:
    """Section 10: one replica's activities/s by kind of work, and the replicas a large backlog needs."""
    rates = capacity["activities_per_second"]
    delays = "-".join(f"{delay:g}" for delay in capacity["delays_s"])
    backlog = max(capacity["replicas_needed"]["io_bound"], key=int)  # the largest backlog, its middle deadline
    deadlines = sorted(capacity["replicas_needed"]["io_bound"][backlog], key=int)
    minutes = deadlines[len(deadlines) // 2]
    replicas = " / ".join(str(capacity["replicas_needed"][kind][backlog][minutes]) for kind in CAPACITY_KINDS)
    return [
        f"| 10. capacity per replica, {capacity['items']['io_bound']} I/O-bound items of {delays} s | "
        f"activities/s of one replica ({capacity['activity_threads']} activity threads) | "
        f"**{rates['io_bound']:.1f}** | |",
        f"| 10. capacity per replica, {capacity['items']['cpu_bound']} CPU-bound items of "
        f"{capacity['cpu_ms_per_item']:.0f} ms | activities/s of one replica, 1 / 2 worker processes | "
        f"{rates['cpu_bound']:.1f} / {rates['cpu_bound_2_processes']:.1f} = "
        f"**{capacity['two_processes_over_one']:.2f}x** | |",
        f"| 10. capacity per replica | replicas for {int(backlog):,} activities in {minutes} min, "
        f"{' / '.join(CAPACITY_KINDS.values())} | {replicas} | |",
    ]


def capacity_markdown(r: dict[str, Any]) -> str:
    """The capacity tables ``docs/scaling.md`` carries verbatim: rates by kind, replicas by backlog and deadline."""
    m, capacity = r["machine"], r["capacity"]
    rates, items, needed = capacity["activities_per_second"], capacity["items"], capacity["replicas_needed"]
    delays = "-".join(f"{delay:g}" for delay in capacity["delays_s"])
    units, milliseconds = capacity["cpu_units_per_item"], capacity["cpu_ms_per_item"]
    cpu_work = f"{units} units of CPU work ({milliseconds:.1f} ms of one core), no sleep"
    work = {
        "io_bound": f"{delays} s of sleep (simulated I/O)",
        "cpu_bound": cpu_work,
        "cpu_bound_2_processes": cpu_work,
    }
    lines = [
        f"Measured by `{r['command']}` on {m['cpu']}, {m['cores']} cores, Python {m['python']} "
        f"(1-minute load average {capacity['load_average_at_start']:.1f} when it started). One replica: one local "
        f"Functions host, {capacity['activity_threads']} activity threads, {capacity['concurrent_activities']} "
        f"activities taken at once. Median of {capacity['repeat']} run(s) per kind.",
        "",
        "| kind of activity | work per item | items per run | activities/s per replica | each run |",
        "|---|---|---|---|---|",
        *(
            f"| {label} | {work[kind]} | {items[kind]:,} | **{rates[kind]:.1f}** | "
            f"{', '.join(f'{rate:.1f}' for rate in capacity['runs'][kind])} |"
            for kind, label in CAPACITY_KINDS.items()
        ),
        "",
        "| backlog (activities) | deadline | " + " | ".join(CAPACITY_KINDS.values()) + " |",
        "|---|---|" + "---|" * len(CAPACITY_KINDS),
    ]
    for backlog in sorted(needed["io_bound"], key=int):
        for minutes in sorted(needed["io_bound"][backlog], key=int):
            replicas = " | ".join(str(needed[kind][backlog][minutes]) for kind in CAPACITY_KINDS)
            lines.append(f"| {int(backlog):,} | {minutes} min | {replicas} |")
    lines.append("")
    return "\n".join(lines)


def write_capacity(results: dict[str, Any], out: Path) -> None:
    """``capacity.json`` (what the tables are rendered from) and ``capacity.md`` (the tables) under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    source = {key: results[key] for key in ("command", "machine", "capacity")}
    (out / "capacity.json").write_text(json.dumps(source, indent=2) + "\n")
    (out / "capacity.md").write_text(capacity_markdown(source))


def _pyplot() -> ModuleType:
    """matplotlib's pyplot, drawing to files only; imported when a plot is drawn, so that the report's tables
    (and the tests that import this module) need only what ``make test-fast`` installs, not ``bench-tools``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_throughput(fan_out: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    for kind, per_n in fan_out["activities_per_second"].items():
        sizes = sorted(per_n, key=int)
        axes.plot([int(n) for n in sizes], [per_n[n] for n in sizes], marker="o", label=kind)
    axes.set(xscale="log", xlabel="work items (N)", ylabel="activities / s", title="Fan-out throughput (zero delay)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _plot_latency(latency: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    names = list(latency["milliseconds"])
    width = 0.25
    for offset, cut in enumerate(("p50", "p95", "p99")):
        positions = [index + (offset - 1) * width for index in range(len(names))]
        axes.bar(positions, [latency["milliseconds"][name][cut] for name in names], width, label=cut)
    axes.set_xticks(range(len(names)), names)
    axes.set(ylabel="ms", title=f"HTTP latency, {latency['clients']} concurrent clients")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _plot_scale_out(scale: dict[str, Any], path: Path) -> None:
    """Backlog and replicas over time in the last autoscaled run."""
    plt = _pyplot()
    seconds, pending, in_flight, replicas, workers = (
        zip(*scale["timeline"], strict=True) if scale["timeline"] else ([],) * 5
    )
    figure, backlog_axes = plt.subplots(figsize=(6, 4))
    backlog_axes.plot(seconds, pending, label="pending activities")
    backlog_axes.plot(seconds, in_flight, label="activities in flight")
    backlog_axes.set(xlabel="seconds", ylabel="work items", title="Backlog-driven scale-out")
    replica_axes = backlog_axes.twinx()
    replica_axes.step(seconds, replicas, where="post", color="black", label="replicas started")
    replica_axes.step(seconds, workers, where="post", color="grey", linestyle="--", label="replicas connected")
    replica_axes.set(ylabel="replicas")
    backlog_axes.legend(loc="upper right")
    replica_axes.legend(loc="center right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
