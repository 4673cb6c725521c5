"""The benchmark code itself, at tiny sizes: every scenario runs, checks its results and writes the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import capacity_markdown
from tests.helpers.stack import ROOT

pytestmark = pytest.mark.timeout(600)


def test_quick_bench_writes_a_complete_report(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=580,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["fan_out_throughput"]["ratio_app_over_bare"]) == {"10", "50"}
    assert all(rate > 0 for rate in results["fan_out_throughput"]["activities_per_second"]["app"].values())
    assert set(results["signal_rate"]["ratio_app_over_asgi"]) == {"1", "32"}
    assert set(results["signal_batch_rate"]["ratio_batch_over_direct"]) == {"1", "32"}
    assert results["signal_batch_rate"]["signals_per_second"]["batch"] > 0
    assert set(results["start_batch_rate"]["ratio_batch_over_direct"]) == {"1", "32"}
    assert set(results["persistence"]["ratio_sqlite_over_memory"]) == {"fan_out", "signals"}
    assert results["persistence"]["data_file_mb"] > 0
    assert results["dashboard"]["instances"] == [60, 200]
    assert all(ms > 0 for ms in results["dashboard"]["median_ms"]["200"].values())
    assert results["http_latency"]["milliseconds"]["signal_counter"]["count"] == 64
    assert results["io_bound_fan_out"]["wall_s"]["app_defaults"] > 0
    assert results["cold_start"]["app_to_healthy_s"] > 0
    assert set(results["time_skipping"]["speedup"]) == {"approval_timeout", "monitor"}
    assert all(speedup > 1 for speedup in results["time_skipping"]["speedup"].values())
    assert set(results["telemetry"]["ratio_over_off"]) == {"on", "on_sampled_10"}
    assert results["telemetry"]["exported_requests"] > 0  # the exporting stacks really exported
    for row in ("fan_out_throughput", "signal_rate", "signal_batch_rate"):
        for summary in results[row]["ratio_rounds"].values():  # --quick takes two rounds per row
            assert summary["rounds"] == 2 and summary["lowest"] <= summary["median"] <= summary["highest"]
            assert summary["met"] == (summary["low"] >= summary["target"])
    for row, sides in (("fan_out_throughput", {"10", "50"}), ("signal_rate", {"1", "32"})):
        floor = results[row]["noise_floor"]  # the baseline against its twin, in the same rounds
        assert set(floor) == sides and all(summary["rounds"] == 2 for summary in floor.values())
    report = (tmp_path / "report.md").read_text()
    assert report.count("; A/A ") == 4
    assert report.count("interval") >= 6 and report.count("| 1. fan-out N=") == 2
    assert report.count("| 3. counter signals, batches of 10 over HTTP") == 2
    assert report.count("| 3. orchestration starts, batches of 10 over HTTP") == 2
    assert report.count("| 8. telemetry") == 3
    assert results["telemetry"]["io_bound_wall_s"]["on"] > 0
    scale = results["scale_out"]
    assert scale["peak_replicas"] == [3]  # grew from 1 to the maximum by itself...
    assert scale["seconds_to_min_after_done"][0] >= 0  # ...and came back to 1 (it waits for that)
    assert scale["wall_s"]["autoscaled"] > 0 and scale["best_fixed_replicas"] in (1, 3)
    assert report.count("| 9. scale-out") == 3
    capacity = results["capacity"]
    assert all(rate > 0 for rate in capacity["activities_per_second"].values())
    assert capacity["replicas_needed"]["cpu_bound"]["100000"]["1"] >= 1
    assert report.count("| 10. capacity") == 3
    versions = results["python_versions"]  # .venv-3.13 exists wherever `make test` found a Python 3.13
    assert "skipped" in versions or min(versions["activities_per_second"].values()) > 0
    assert report.count("| 11. Python 3.13 / 3.11") == (1 if "skipped" in versions else 2)
    assert (tmp_path / "capacity.md").read_text() == capacity_markdown(
        json.loads((tmp_path / "capacity.json").read_text())
    )
    for plot in ("fan_out_throughput.png", "http_latency.png", "scale_out.png"):
        assert (tmp_path / plot).read_bytes().startswith(b"\x89PNG")
