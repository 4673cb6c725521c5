"""The measured scenarios. Each compares two configurations in one run, interleaved A B A B."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from durabletask.entities import EntityInstanceId

from bench.processes import ROOT, Stack, spawn, stop, wait_healthy
from local_stack.ports import free_port

SDK_DEFAULT_THREADS = "6"  # cpu + 4 on the 2-core machines this runs on; see the report's machine line


def fan_out_throughput(sizes: list[int], repeat: int) -> dict[str, Any]:
    """Activities/s for zero-delay fan-outs: started over HTTP and run by the hosted worker, against bare SDK."""
    runs: dict[str, dict[int, list[float]]] = {"app": {n: [] for n in sizes}, "bare": {n: [] for n in sizes}}
    peak_rss = 0
    with Stack("app") as app, Stack("bare") as bare:
        for _ in range(repeat):
            for n in sizes:
                seconds, rss = _timed_fan_out_app(app, n)
                runs["app"][n].append(n / seconds)
                peak_rss = max(peak_rss, rss)
                runs["bare"][n].append(n / _timed_fan_out_bare(bare, n))
    medians = {kind: {n: statistics.median(values) for n, values in per.items()} for kind, per in runs.items()}
    return {
        "activities_per_second": medians,
        "ratio_app_over_bare": {n: medians["app"][n] / medians["bare"][n] for n in sizes},
        "runs": runs,
        "peak_rss_mb_largest_fan_out": peak_rss / 2**20,
    }


def _timed_fan_out_app(stack: Stack, n: int) -> tuple[float, int]:
    peak = [stack.worker_rss()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], stack.worker_rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with stack.client() as client:
        started = time.perf_counter()
        response = httpx.post(
            f"{stack.base_url}/orchestrators/fan_out_fan_in_orchestrator", json={"count": n}, timeout=60
        )
        response.raise_for_status()
        _expect_sum(client.wait_for_orchestration_completion(response.json()["id"], timeout=600), n)
        seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return seconds, peak[0]


def _timed_fan_out_bare(stack: Stack, n: int) -> float:
    with stack.client() as client:
        started = time.perf_counter()
        instance_id = client.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=list(range(1, n + 1)))
        _expect_sum(client.wait_for_orchestration_completion(instance_id, timeout=600), n)
        return time.perf_counter() - started


def _expect_sum(state: Any, n: int) -> None:
    expected = n * (n + 1) * (2 * n + 1) // 6
    if state is None or state.get_output() is None or state.get_output()["sum"] != expected:
        raise RuntimeError(f"fan-out of {n} finished wrong: {state}")


def io_bound_fan_out(items: int, repeat: int) -> dict[str, Any]:
    """The seed's fan-out (0.5-2 s per item): the app's default concurrency against the SDK's cpu + 4 threads."""
    delays = {"WORK_ITEM_DELAY_MIN_SECONDS": "0.5", "WORK_ITEM_DELAY_MAX_SECONDS": "2.0"}
    walls: dict[str, list[float]] = {"app_defaults": [], "sdk_defaults": []}
    with (
        Stack("app", settings=delays) as tuned,
        Stack("app", settings={**delays, "DTS_MAX_ACTIVITY_THREADS": SDK_DEFAULT_THREADS}) as sdk,
    ):
        for _ in range(repeat):
            walls["app_defaults"].append(_timed_fan_out_app(tuned, items)[0])
            walls["sdk_defaults"].append(_timed_fan_out_app(sdk, items)[0])
    medians = {kind: statistics.median(values) for kind, values in walls.items()}
    return {
        "items": items,
        "longest_delay_s": 2.0,
        "wall_s": medians,
        "app_over_longest_delay": medians["app_defaults"] / 2.0,
        "speed_up_over_sdk_defaults": medians["sdk_defaults"] / medians["app_defaults"],
        "runs": walls,
    }


def signal_rate(signals: int, sender_counts: list[int], repeat: int) -> dict[str, Any]:
    """Acknowledged counter signals/s over HTTP against direct gRPC ``signal_entity``; totals must be exact."""
    rates: dict[str, list[float]] = {}
    with Stack("app") as stack, stack.client() as client:
        for round_number in range(repeat):
            for senders in sender_counts:
                for mode in ("http", "direct"):
                    key = f"bench-{mode}-{senders}-{round_number}"
                    started = time.perf_counter()
                    if mode == "http":
                        asyncio.run(_signal_over_http(stack.base_url, key, signals, senders))
                    else:
                        _signal_directly(client, key, signals, senders)
                    rates.setdefault(f"{mode}_{senders}", []).append(signals / (time.perf_counter() - started))
                    _expect_counter(stack.base_url, key, signals)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    ratios = {senders: medians[f"http_{senders}"] / medians[f"direct_{senders}"] for senders in sender_counts}
    return {"signals_per_run": signals, "signals_per_second": medians, "ratio_http_over_direct": ratios, "runs": rates}


async def _signal_over_http(base_url: str, key: str, signals: int, senders: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:

        async def sender(count: int) -> None:
            for _ in range(count):
                response = await http.post(f"/counters/{key}/add", json=1)
                response.raise_for_status()

        await asyncio.gather(*(sender(len(range(i, signals, senders))) for i in range(senders)))


def _signal_directly(client: Any, key: str, signals: int, senders: int) -> None:
    entity = EntityInstanceId("counter", key)
    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(lambda _: client.signal_entity(entity, "add", input=1), range(signals)))


def _expect_counter(base_url: str, key: str, expected: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        response = httpx.get(f"{base_url}/counters/{key}", timeout=30)
        if response.status_code == 200:
            value = response.json()["value"]
            if value == expected:
                return
        time.sleep(0.1)
    raise RuntimeError(f"counter {key} holds {value}, expected {expected}: signals were lost")


def http_latency(clients: int, requests_per_client: int) -> dict[str, Any]:
    """p50/p95/p99 of starting an orchestration and of signalling a counter under concurrent clients."""
    with Stack("app") as stack:
        results = {
            "start_orchestration": asyncio.run(
                _latencies(stack.base_url, "/orchestrators/counter_workflow", clients, requests_per_client)
            ),
            "signal_counter": asyncio.run(
                _latencies(stack.base_url, "/counters/bench-latency/add", clients, requests_per_client)
            ),
        }
        _expect_counter(stack.base_url, "bench-latency", clients * requests_per_client)
    return {"clients": clients, "requests_per_client": requests_per_client, "milliseconds": results}


async def _latencies(base_url: str, path: str, clients: int, count: int) -> dict[str, float]:
    samples: list[float] = []
    body: Any = {"entity_key": "bench-latency-workflow"} if "orchestrators" in path else 1
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:

        async def client() -> None:
            for _ in range(count):
                started = time.perf_counter()
                response = await http.post(path, json=body)
                samples.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()

        await asyncio.gather(*(client() for _ in range(clients)))
    cuts = statistics.quantiles(samples, n=100)
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "count": len(samples)}


def cold_start(repeat: int) -> dict[str, Any]:
    """Process start to a healthy ``/health`` for the app, against a bare ``import azure.functions``."""
    app_times: list[float] = []
    bare_times: list[float] = []
    with Stack("bare") as scheduler_only:
        endpoint = f"http://127.0.0.1:{scheduler_only.scheduler_port}"
        for _ in range(repeat):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import azure.functions"], cwd=ROOT, check=True)
            bare_times.append(time.perf_counter() - started)
            app_times.append(_app_cold_start(endpoint))
    app, bare = statistics.median(app_times), statistics.median(bare_times)
    return {
        "app_to_healthy_s": app,
        "bare_import_s": bare,
        "ratio": app / bare,
        "runs": {"app": app_times, "bare": bare_times},
    }


def _app_cold_start(endpoint: str) -> float:
    port = free_port()
    env = {"DURABLE_TASK_SCHEDULER_CONNECTION_STRING": f"Endpoint={endpoint};TaskHub=default;Authentication=None"}
    started = time.perf_counter()
    process = spawn(["-m", "local_stack", "host", "--port", str(port), "--quiet"], env)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/api")
        return time.perf_counter() - started
    finally:
        stop(process)
