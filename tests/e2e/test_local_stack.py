"""The local stack end to end: real scheduler and Functions host processes, driven over HTTP and by the clients."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from functools import partial
from typing import Any

import httpx
import pytest

from tests.helpers.counters import counter_over_http, wait_for_value
from tests.helpers.stack import ROOT, LocalStack, wait_for_output

pytestmark = pytest.mark.timeout(600)


def sum_of_squares(n: int) -> int:
    return n * (n + 1) * (2 * n + 1) // 6


def start_fan_out(api: httpx.Client, body: Any) -> dict[str, Any]:
    response = api.post("/orchestrators/fan_out_fan_in_orchestrator", json=body)
    assert response.status_code == 202, response.text
    return response.json()


@pytest.mark.parametrize("count", [10, 1000])
def test_fan_out_through_the_api(api: httpx.Client, count: int) -> None:
    started = start_fan_out(api, {"count": count})
    status = wait_for_output(api, started["statusQueryGetUri"])
    assert status["runtimeStatus"] == "Completed"
    total = sum_of_squares(count)
    assert status["output"] == {"total_items": count, "sum": total, "average": total / count}


def test_counter_workflow_on_a_fresh_key(api: httpx.Client) -> None:
    started = api.post("/orchestrators/counter_workflow", json={"entity_key": "e2e-fresh"}).json()
    status = wait_for_output(api, started["statusQueryGetUri"])
    assert status["output"] == "Counter 'e2e-fresh' final value: 12"
    assert api.get("/counters/e2e-fresh").json()["value"] == 12


def test_concurrent_signals_are_all_counted(stack: LocalStack) -> None:
    senders, per_sender = 25, 20

    async def send() -> list[int]:
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as http:

            async def sender(number: int) -> list[int]:
                codes = []
                for _ in range(per_sender):
                    response = await http.post("/counters/e2e-burst/add", json=number)
                    codes.append(response.status_code)
                return codes

            results = await asyncio.gather(*(sender(number) for number in range(1, senders + 1)))
            return [code for codes in results for code in codes]

    codes = asyncio.run(send())
    assert set(codes) == {202}
    expected = per_sender * sum(range(1, senders + 1))
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        wait_for_value(partial(counter_over_http, api, "e2e-burst"), expected)


def test_clients_direct_and_through_the_api(stack: LocalStack) -> None:
    env = {**stack.process_env(), "ENDPOINT": stack.endpoint, "TASKHUB": stack.taskhub}
    del env["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"]  # the seeds' clients know only ENDPOINT/TASKHUB
    base = f"http://127.0.0.1:{stack.http_port}"
    runs = {
        "direct": ([], "e2e-client-direct"),
        "http": (["--url", base], "e2e-client-http"),
    }
    for extra, key in runs.values():
        fan_out = run_client("clients.fan_out_fan_in_client", ["20", *extra], env)
        assert "Orchestration completed with status: COMPLETED" in fan_out
        assert "Total items processed: 20" in fan_out
        assert f"Sum of results: {sum_of_squares(20)}" in fan_out
        assert f"Average result: {sum_of_squares(20) / 20}" in fan_out

        entities = run_client("clients.entities_client", [key, *extra], env)
        assert entities.count("Orchestration completed successfully with result:") == 5
        for number in range(1, 6):
            assert f"\"Counter '{key}-orch-{number}' final value: 12\"" in entities
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        for _, key in runs.values():
            wait_for_value(partial(counter_over_http, api, key), 75)


def run_client(module: str, arguments: list[str], env: dict[str, str]) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", module, *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_requests_are_converted_as_the_functions_host_converts_them(api: httpx.Client) -> None:
    """Over real HTTP: no 405, empty query values dropped, ``%2F`` kept in a route parameter, chunked bodies empty."""
    wrong_method = api.put("/counters/converted")
    assert wrong_method.status_code == 404, wrong_method.text
    empty_count = api.post("/orchestrators/fan_out_fan_in_orchestrator?count=")
    assert empty_count.status_code == 202, empty_count.text
    slash = api.get("/counters/a%2Fb")
    assert (slash.status_code, slash.json()["field"]) == (400, "key")
    assert "a%2Fb" in slash.json()["error"]
    chunked = api.post("/orchestrators/fan_out_fan_in_orchestrator", content=iter([b"[1, ", b"2]"]))
    assert (chunked.status_code, chunked.json()["field"]) == (400, "body")
