"""A bounded load run over loopback: 50 concurrent clients for 60 s mixing starts, status polls and signals.

Every answer must be the expected one (no errors), every signal must land (each counter ends at exactly the
sum sent to it), every started fan-out must finish with its exact aggregate, and the Function App's memory
must stay flat: the host's RSS over the last third of the run at most twice that of the first third (a
generous bound: the figures are printed, the assertion only catches a leak).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.helpers.counters import counter_over_http, wait_for_value
from tests.helpers.stack import LocalStack, wait_for_output
from tests.reliability.conftest import started_stack

pytestmark = pytest.mark.timeout(600)

CLIENTS = 50
DURATION_SECONDS = 60.0
COUNTERS = 10
RSS_SAMPLE_SECONDS = 1.0


@dataclass
class LoadResult:
    requests: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    sent: Counter[str] = field(default_factory=Counter)
    started: dict[str, list[int]] = field(default_factory=dict)
    rss: list[int] = field(default_factory=list)
    seconds: float = 0.0


@pytest.fixture(scope="module")
def load_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from started_stack(tmp_path_factory.mktemp("load"), {})


def rss_bytes(pid: int) -> int:
    """Resident set size from ``/proc``, as ``ps`` reports it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


async def client(api: httpx.AsyncClient, number: int, run: str, until: float, result: LoadResult) -> None:
    """One client: start small fan-outs, poll what it started, and signal counters shared with the others."""
    rng = random.Random(number)
    mine: list[str] = []
    while time.monotonic() < until:
        action = rng.choice(("start", "poll", "signal", "signal"))
        if action == "poll" and not mine:
            action = "start"
        try:
            if action == "start":
                items = [rng.randint(-50, 50) for _ in range(rng.randint(0, 5))]
                response = await api.post("/orchestrators/fan_out_fan_in_orchestrator", json=items)
                expected = {202}
                if response.status_code == 202:
                    url = response.json()["statusQueryGetUri"]
                    mine.append(url)
                    result.started[url] = items
            elif action == "poll":
                response = await api.get(rng.choice(mine))
                expected = {200, 202}
            else:
                key = f"{run}-{rng.randrange(COUNTERS)}"
                amount = rng.randint(1, 100)
                response = await api.post(f"/counters/{key}/add", json=amount)
                expected = {202}
                if response.status_code == 202:
                    result.sent[key] += amount
        except httpx.HTTPError as error:
            result.errors.append(f"{action}: {type(error).__name__}: {error}")
            continue
        result.requests[action] += 1
        if response.status_code not in expected:
            result.errors.append(f"{action}: {response.status_code} {response.text[:200]}")


async def sample_rss(pid: int, until: float, result: LoadResult) -> None:
    while time.monotonic() < until:
        result.rss.append(rss_bytes(pid))
        await asyncio.sleep(RSS_SAMPLE_SECONDS)


async def run_load(base_url: str, host_pid: int) -> LoadResult:
    result = LoadResult()
    run = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as api:
        started = time.monotonic()
        until = started + DURATION_SECONDS
        clients = [client(api, number, run, until, result) for number in range(CLIENTS)]
        await asyncio.gather(sample_rss(host_pid, until, result), *clients)
        result.seconds = time.monotonic() - started
    return result


def aggregate(items: list[int]) -> dict[str, float]:
    total = sum(item * item for item in items)
    return {"total_items": len(items), "sum": total, "average": total / len(items) if items else 0}


def test_fifty_clients_for_a_minute_lose_nothing_and_leak_nothing(load_stack: LocalStack) -> None:
    result = asyncio.run(run_load(load_stack.base_url, load_stack.processes["host"].pid))

    total = sum(result.requests.values())
    third = len(result.rss) // 3
    first, last = sum(result.rss[:third]) / third, sum(result.rss[-third:]) / third
    print(
        f"\n{total} requests in {result.seconds:.1f} s = {total / result.seconds:.0f}/s {dict(result.requests)}, "
        f"{len(result.errors)} errors; host RSS first third {first / 2**20:.1f} MiB, "
        f"last third {last / 2**20:.1f} MiB ({last / first:.2f}x)"
    )
    assert result.errors == []
    assert result.requests["start"] and result.requests["poll"] and result.requests["signal"]

    with httpx.Client(base_url=load_stack.base_url, timeout=30) as api:
        for key, expected in result.sent.items():
            wait_for_value(partial(counter_over_http, api, key), expected, 120, f"counter {key}")
        for url, items in result.started.items():
            status = wait_for_output(api, url)
            assert (status["runtimeStatus"], status["output"]) == ("Completed", aggregate(items)), url
    assert last <= 2 * first
