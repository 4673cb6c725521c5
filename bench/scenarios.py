"""The measured scenarios. Each compares two configurations in one run, interleaved A B A B."""

from __future__ import annotations

import asyncio
import html
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import httpx
from durabletask.entities import EntityInstanceId

from bench.processes import HOST, ROOT, Stack, spawn, stop, wait_healthy
from bench.rounds import RoundPolicy, in_turn, summaries, take_rounds
from local_stack.ports import free_port, wait_for_port

SDK_DEFAULT_THREADS = "6"  # cpu + 4 on the 2-core machines this runs on; see the report's machine line

Configuration = TypeVar("Configuration")


def _medians(runs: dict[Configuration, list[float]]) -> dict[Configuration, float]:
    """Each configuration's median run: the runs are interleaved, and the median leaves out a noisy one."""
    return {configuration: statistics.median(values) for configuration, values in runs.items()}


FAN_OUT_TARGET = 1.0
SIGNAL_TARGET = 0.95
BATCH_TARGET = 2.0
"""The targets of the ratio rows, met only at the lower bound of their interval (``bench.rounds``)."""


NOISE_FLOOR_MAX_ITEMS = 1000
"""Fan-outs up to this size also run on a twin of the bare stack: the largest runs half a minute a side."""


def fan_out_throughput(sizes: list[int], policy: RoundPolicy) -> dict[str, Any]:
    """Activities/s for zero-delay fan-outs: started over HTTP and run by the hosted worker, against bare SDK.

    Each round runs every unsettled size app then bare (A B, ``_pairs_per_round`` times; B A in odd rounds,
    ``in_turn``); its ratio is the bare side's seconds over the app's. Sizes up to ``NOISE_FLOOR_MAX_ITEMS``
    also run on a second bare stack: bare over its twin (A/A) is what the same rounds give two identical
    sides, the row's noise floor.
    """
    runs: dict[str, dict[int, list[float]]] = {"app": {n: [] for n in sizes}, "bare": {n: [] for n in sizes}}
    floor: dict[int, list[float]] = {n: [] for n in sizes if n <= NOISE_FLOOR_MAX_ITEMS}
    peak_rss = 0
    with Stack("app") as app, Stack("bare") as bare, Stack("bare") as twin:

        def measure(rows: list[int]) -> dict[int, float]:
            nonlocal peak_rss
            ratios = {}
            for n in rows:
                pairs, seconds = _pairs_per_round(n), {"app": 0.0, "bare": 0.0, "twin": 0.0}
                sides = in_turn(["app", "bare", "twin"] if n in floor else ["app", "bare"], len(runs["app"][n]))
                for _ in range(pairs):
                    for side in sides:
                        if side == "app":
                            run_seconds, rss = _timed_fan_out_app(app, n)
                            peak_rss = max(peak_rss, rss)
                        else:
                            run_seconds = timed_fan_out_over_grpc(bare if side == "bare" else twin, n)
                        seconds[side] += run_seconds
                runs["app"][n].append(n * pairs / seconds["app"])
                runs["bare"][n].append(n * pairs / seconds["bare"])
                ratios[n] = seconds["bare"] / seconds["app"]
                if n in floor:
                    floor[n].append(seconds["twin"] / seconds["bare"])
            return ratios

        targets = dict.fromkeys(sizes, FAN_OUT_TARGET)
        ratios = take_rounds(targets, measure, policy)
    return {
        "activities_per_second": {kind: _medians(per) for kind, per in runs.items()},
        "ratio_app_over_bare": {n: statistics.median(values) for n, values in ratios.items()},
        "ratio_rounds": summaries(ratios, targets),
        "noise_floor": summaries(floor, dict.fromkeys(floor)),
        "runs": runs,
        "peak_rss_mb_largest_fan_out": peak_rss / 2**20,
    }


def _pairs_per_round(n: int) -> int:
    """Small fan-outs last a few tenths of a second, where a shared machine's noise is as large as the effect:
    they run more A B pairs per round (10 at N=100, 1 from N=1,000), so every size rests on about as much time."""
    return max(1, min(10, 1000 // max(n, 1)))


def _timed_fan_out_app(stack: Stack, n: int) -> tuple[float, int]:
    peak = [stack.worker_rss()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], stack.worker_rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # Both clients exist before the clock starts, as the bare run's gRPC client does: creating an httpx client
    # builds a TLS context, tens of milliseconds that would be charged to the app's fan-out.
    with stack.client() as client, httpx.Client(timeout=60) as http:
        started = time.perf_counter()
        response = http.post(f"{stack.base_url}/orchestrators/fan_out_fan_in_orchestrator", json={"count": n})
        response.raise_for_status()
        _expect_sum(client.wait_for_orchestration_completion(response.json()["id"], timeout=600), n)
        seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return seconds, peak[0]


def timed_fan_out_over_grpc(stack: Stack, n: int) -> float:
    """Seconds from scheduling a fan-out of 1..n over gRPC to its result, whose sum is checked."""
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
    medians = _medians(walls)
    return {
        "items": items,
        "longest_delay_s": 2.0,
        "wall_s": medians,
        "app_over_longest_delay": medians["app_defaults"] / 2.0,
        "speed_up_over_sdk_defaults": medians["sdk_defaults"] / medians["app_defaults"],
        "runs": walls,
    }


def signal_rate(signals: int, sender_counts: list[int], policy: RoundPolicy) -> dict[str, Any]:
    """Acknowledged counter signals/s over HTTP: the app against a bare ASGI service doing the same work.

    Both answer ``POST /api/counters/{key}/add`` by calling the async client's ``signal_entity`` with an SDK
    worker in the same process, each on its own scheduler; totals must be exact. A round sends ``signals`` to
    the app, to the bare service and to a twin of the bare service (in reverse in odd rounds, ``in_turn``), per
    unsettled sender count; its ratio is the app's rate over the bare one's, and the bare one's over its
    twin's is the row's noise floor (A/A).
    """
    rates: dict[str, list[float]] = {}
    floor: dict[int, list[float]] = {senders: [] for senders in sender_counts}
    with Stack("app") as app, Stack("asgi") as bare, Stack("asgi") as twin:

        def measure(rows: list[int]) -> dict[int, float]:
            stacks = {"app": app, "asgi": bare, "twin": twin}
            for senders in rows:
                round_number = len(rates.get(f"app_{senders}", []))
                for mode in in_turn(list(stacks), round_number):
                    stack = stacks[mode]
                    key = f"bench-{mode}-{senders}-{round_number}"
                    started = time.perf_counter()
                    asyncio.run(_signal_over_http(stack.base_url, key, signals, senders))
                    rates.setdefault(f"{mode}_{senders}", []).append(signals / (time.perf_counter() - started))
                    _expect_counter(stack.base_url, key, signals)
                floor[senders].append(rates[f"asgi_{senders}"][-1] / rates[f"twin_{senders}"][-1])
            return {senders: rates[f"app_{senders}"][-1] / rates[f"asgi_{senders}"][-1] for senders in rows}

        targets = dict.fromkeys(sender_counts, SIGNAL_TARGET)
        ratios = take_rounds(targets, measure, policy)
    return {
        "signals_per_run": signals,
        "signals_per_second": _medians(rates),
        "ratio_app_over_asgi": {senders: statistics.median(values) for senders, values in ratios.items()},
        "ratio_rounds": summaries(ratios, targets),
        "noise_floor": summaries(floor, dict.fromkeys(floor)),
        "runs": rates,
    }


async def _signal_over_http(base_url: str, key: str, signals: int, senders: int) -> None:
    async with _load_generator(senders) as http:

        async def sender(count: int) -> None:
            for _ in range(count):
                async with http.post(f"{base_url}/counters/{key}/add", json=1) as response:
                    response.raise_for_status()

        await asyncio.gather(*(sender(len(range(i, signals, senders))) for i in range(senders)))


def _load_generator(connections: int) -> aiohttp.ClientSession:
    """The HTTP client that sends load: aiohttp, whose per-request CPU is a fraction of httpx's.

    Load generator, host and scheduler share the machine's cores, so a heavier client would measure itself.
    """
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections), timeout=aiohttp.ClientTimeout(total=60)
    )


def _signal_directly(client: Any, key: str, signals: int, senders: int) -> None:
    entity = EntityInstanceId("counter", key)
    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(lambda _: client.signal_entity(entity, "add", input=1), range(signals)))


def signal_batch_rate(signals: int, batch_size: int, keys: int, policy: RoundPolicy) -> dict[str, Any]:
    """Signals/s posted in batches by one HTTP sender, against one and 32 direct gRPC senders (one call each).

    Every mode sends the same signals: add 1 to ``keys`` counters in turn (a batch sends one key's signals in
    order, different keys concurrently). Totals are checked exactly after each run. A round runs the batch,
    then each unsettled row's direct senders; a row's ratio is the batch's rate over its senders' rate.
    """
    rates: dict[str, list[float]] = {}
    with Stack("app") as stack, stack.client() as client:

        def run(mode: str, senders: int | None) -> float:
            prefix = f"bench-batch-{mode}-{len(rates.get(mode, []))}-"
            names = [f"{prefix}{number}" for number in range(keys)]
            started = time.perf_counter()
            if senders is None:
                asyncio.run(_signal_in_batches(stack.base_url, names, signals, batch_size))
            else:
                _signal_keys_directly(client, names, signals, senders)
            rates.setdefault(mode, []).append(signals / (time.perf_counter() - started))
            _expect_counters(stack.base_url, prefix, Counter(names[number % keys] for number in range(signals)))
            return rates[mode][-1]

        def measure(rows: list[int]) -> dict[int, float]:
            batch = run("batch", None)
            return {senders: batch / run(f"direct_{senders}", senders) for senders in rows}

        targets = dict.fromkeys((1, 32), BATCH_TARGET)
        ratios = take_rounds(targets, measure, policy)
    return {
        "signals_per_run": signals,
        "batch_size": batch_size,
        "keys": keys,
        "signals_per_second": _medians(rates),
        "ratio_batch_over_direct": {senders: statistics.median(values) for senders, values in ratios.items()},
        "ratio_rounds": summaries(ratios, targets),
        "runs": rates,
    }


async def _signal_in_batches(base_url: str, keys: list[str], signals: int, batch_size: int) -> None:
    entries = [{"key": keys[number % len(keys)], "operation": "add", "amount": 1} for number in range(signals)]
    async with _load_generator(1) as http:
        for first in range(0, signals, batch_size):
            body = {"signals": entries[first : first + batch_size]}
            async with http.post(f"{base_url}/batch/signals", json=body) as response:
                response.raise_for_status()


def _signal_keys_directly(client: Any, keys: list[str], signals: int, senders: int) -> None:
    entities = [EntityInstanceId("counter", key) for key in keys]
    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(lambda n: client.signal_entity(entities[n % len(keys)], "add", input=1), range(signals)))


def start_batch_rate(starts: int, batch_size: int, repeat: int) -> dict[str, Any]:
    """Empty fan-outs started/s in batches by one HTTP sender, against one and 32 direct gRPC senders.

    Every start must then complete with the empty fan-out's output.
    """
    rates: dict[str, list[float]] = {}
    modes = {"batch": None, "direct_1": 1, "direct_32": 32}
    with Stack("app") as stack, stack.client() as client:
        for _ in range(repeat):
            for mode, senders in modes.items():
                started = time.perf_counter()
                if senders is None:
                    ids = asyncio.run(_start_in_batches(stack.base_url, starts, batch_size))
                else:
                    ids = _start_directly(client, starts, senders)
                rates.setdefault(mode, []).append(starts / (time.perf_counter() - started))
                _expect_empty_fan_outs(client, ids)
    medians = _medians(rates)
    return {
        "starts_per_run": starts,
        "batch_size": batch_size,
        "starts_per_second": medians,
        "ratio_batch_over_direct": {senders: medians["batch"] / medians[f"direct_{senders}"] for senders in (1, 32)},
        "runs": rates,
    }


def _start_directly(client: Any, starts: int, senders: int) -> list[str]:
    with ThreadPoolExecutor(senders) as pool:
        return list(
            pool.map(
                lambda _: client.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=[]), range(starts)
            )
        )


async def _start_in_batches(base_url: str, starts: int, batch_size: int) -> list[str]:
    ids: list[str] = []
    async with _load_generator(1) as http:
        for first in range(0, starts, batch_size):
            body = {"inputs": [[]] * min(batch_size, starts - first)}
            async with http.post(f"{base_url}/batch/orchestrators/fan_out_fan_in_orchestrator", json=body) as response:
                response.raise_for_status()
                ids += [instance["id"] for instance in (await response.json())["instances"]]
    return ids


def _expect_empty_fan_outs(client: Any, ids: list[str]) -> None:
    for instance_id in ids:
        state = client.wait_for_orchestration_completion(instance_id, timeout=120)
        if state is None or state.get_output() != {"total_items": 0, "sum": 0, "average": 0}:
            raise RuntimeError(f"{instance_id} finished wrong: {state}")


def _expect_counters(base_url: str, prefix: str, expected: dict[str, int], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    values: dict[str, int] = {}
    while time.monotonic() < deadline:
        response = httpx.get(f"{base_url}/counters", params={"prefix": prefix}, timeout=30)
        if response.status_code == 200:
            values = {counter["key"]: counter["value"] for counter in response.json()["counters"]}
            if values == expected:
                return
        time.sleep(0.1)
    wrong = {key: values.get(key) for key, value in expected.items() if values.get(key) != value}
    raise RuntimeError(f"counters {prefix}* hold {wrong} where the signals sent say otherwise: signals were lost")


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


def persistence_cost(fan_out_size: int, signals: int, senders: int, repeat: int) -> dict[str, Any]:
    """Fan-out activities/s and acknowledged signals/s with the scheduler's state in SQLite against in memory."""
    rates: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        data_file = Path(folder) / "scheduler.sqlite3"
        sqlite_store = ["--store", "sqlite", "--data-file", str(data_file)]
        with Stack("app", store=sqlite_store) as sqlite, Stack("app") as memory:
            for round_number in range(repeat):
                for name, stack in (("sqlite", sqlite), ("memory", memory)):
                    seconds, _ = _timed_fan_out_app(stack, fan_out_size)
                    rates.setdefault(f"{name}_fan_out", []).append(fan_out_size / seconds)
                    key = f"bench-store-{round_number}"
                    with stack.client() as client:
                        started = time.perf_counter()
                        _signal_directly(client, key, signals, senders)
                        rates.setdefault(f"{name}_signals", []).append(signals / (time.perf_counter() - started))
                    _expect_counter(stack.base_url, key, signals)
        data_file_mb = sum(path.stat().st_size for path in Path(folder).glob("scheduler.sqlite3*")) / 2**20
    medians = _medians(rates)
    return {
        "fan_out_size": fan_out_size,
        "signals_per_run": signals,
        "senders": senders,
        "per_second": medians,
        "ratio_sqlite_over_memory": {
            measure: medians[f"sqlite_{measure}"] / medians[f"memory_{measure}"] for measure in ("fan_out", "signals")
        },
        "data_file_mb": data_file_mb,
        "runs": rates,
    }


def dashboard_at_scale(small: int, large: int, samples: int) -> dict[str, Any]:
    """Dashboard page times with ``large`` finished instances in the task hub against ``small``."""
    pages: dict[str, dict[str, float]] = {}
    for size in (small, large):
        with Stack("bare") as stack:
            _finished_instances(stack, size)
            pages[str(size)] = _dashboard_page_times(stack.scheduler_port, samples)
    ratios = {page: pages[str(large)][page] / pages[str(small)][page] for page in pages[str(small)]}
    return {"instances": [small, large], "median_ms": pages, "ratio_large_over_small": ratios}


def _finished_instances(stack: Stack, count: int) -> None:
    """``count`` completed fan-outs (empty ones: one episode each) and one counter per 10 of them."""
    with stack.client() as client, ThreadPoolExecutor(16) as pool:
        ids = list(
            pool.map(lambda _: client.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=[]), range(count))
        )
        for number in range(count // 10):
            client.signal_entity(EntityInstanceId("counter", f"bench-dash-{number}"), "add", input=number)
        for instance_id in ids:
            state = client.wait_for_orchestration_completion(instance_id, timeout=600)
            if state is None or state.get_output() != {"total_items": 0, "sum": 0, "average": 0}:
                raise RuntimeError(f"{instance_id} finished wrong: {state}")


def _dashboard_page_times(scheduler_port: int, samples: int) -> dict[str, float]:
    """Median milliseconds per page: the list's first and second page, filtered lists, entities, one instance."""
    port = free_port()
    endpoint = f"http://{HOST}:{scheduler_port}"
    process = spawn(
        ["-m", "local_stack", "dashboard", "--port", str(port), "--endpoint", endpoint, "--taskhub", "default"]
    )
    try:
        if not wait_for_port(HOST, port, 60):
            raise RuntimeError("the dashboard did not start")
        with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=120) as http:
            first = http.get("/").text
            instance_id = re.search(r'href="/instances/([^"/]+)"', first).group(1)
            second = _follow_next(http, first)
            paths = {
                "list_first_page": "/",
                "list_second_page": second,
                "list_completed": "/?status=Completed",
                "list_name_prefix": "/?name=fan_out",
                "entities": "/entities",
                "instance": f"/instances/{instance_id}",
            }
            return {page: _median_get_ms(http, path, samples) for page, path in paths.items()}
    finally:
        stop(process)


def _follow_next(http: httpx.Client, page: str) -> str:
    """The path the list page's Next link leads to (the scheduler's continuation token)."""
    found = re.search(r'class="next" href="([^"]+)"', page)
    if found is None:
        raise RuntimeError("the list has a single page")
    return html.unescape(found.group(1))


def _median_get_ms(http: httpx.Client, path: str, samples: int) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        http.get(path).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


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
    async with _load_generator(clients) as http:

        async def client() -> None:
            for _ in range(count):
                started = time.perf_counter()
                async with http.post(f"{base_url}{path}", json=body) as response:
                    await response.read()
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


def telemetry_cost(n: int, io_items: int, repeat: int) -> dict[str, Any]:
    """Fan-out activities/s with telemetry off (nothing configured) against exporting every span and log,
    and the I/O-bound fan-out's wall time off and exporting.

    The exporting stacks send OTLP (http/protobuf) to a loopback sink that accepts and discards, so the
    figure is the app's own cost of recording and exporting, not a network's.
    """
    sink = _DiscardingSink()
    exporting = {"OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint}
    configurations = {
        "off": {},
        "on": exporting,
        "on_sampled_10": {**exporting, "TELEMETRY_SAMPLING_PERCENTAGE": "10"},
    }
    rates: dict[str, list[float]] = {name: [] for name in configurations}
    try:
        with (
            Stack("app", settings=configurations["off"]) as off,
            Stack("app", settings=configurations["on"]) as on,
            Stack("app", settings=configurations["on_sampled_10"]) as sampled,
        ):
            stacks = {"off": off, "on": on, "on_sampled_10": sampled}
            for _ in range(repeat):
                for name, stack in stacks.items():
                    rates[name].append(n / _timed_fan_out_app(stack, n)[0])
        io_walls = _io_bound_walls(exporting, io_items, repeat)
    finally:
        sink.stop()
    medians = _medians(rates)
    io_medians = _medians(io_walls)
    return {
        "fan_out_size": n,
        "activities_per_second": medians,
        "ratio_over_off": {name: medians[name] / medians["off"] for name in ("on", "on_sampled_10")},
        "io_bound_items": io_items,
        "io_bound_wall_s": io_medians,
        "io_bound_wall_on_over_off": io_medians["on"] / io_medians["off"],
        "exported_requests": sink.requests,
        "runs": rates,
        "io_bound_runs": io_walls,
    }


def _io_bound_walls(exporting: dict[str, str], items: int, repeat: int) -> dict[str, list[float]]:
    """Wall time of the seed's I/O-bound fan-out (0.5-2 s per item) with telemetry off and exporting."""
    delays = {"WORK_ITEM_DELAY_MIN_SECONDS": "0.5", "WORK_ITEM_DELAY_MAX_SECONDS": "2.0"}
    walls: dict[str, list[float]] = {"off": [], "on": []}
    with Stack("app", settings=delays) as off, Stack("app", settings={**delays, **exporting}) as on:
        for _ in range(repeat):
            walls["off"].append(_timed_fan_out_app(off, items)[0])
            walls["on"].append(_timed_fan_out_app(on, items)[0])
    return walls


class _DiscardingSink:
    """An OTLP endpoint on loopback that answers 200 to every export and keeps nothing but a count."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
