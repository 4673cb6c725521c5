"""The application patterns as declared workflows, over HTTP, against both local scheduler stores.

Human interaction (``approval_workflow``), monitor (``monitor_workflow``), sub-orchestration fan-out
(``chunked_fan_out``) and critical sections (``transfer_workflow``), each started through its generated route.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import SCHEDULER_MODES, running_stack
from tests.helpers.polling import wait_until
from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import LocalStack, wait_for_output

FAILING_ITEM = -7
"""A work item that always fails (the fault drill ``WORK_ITEM_FAIL_ITEMS``), to fail one chunk."""


@pytest.fixture(scope="module", params=list(SCHEDULER_MODES))
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    env = {**INSTANT_WORK, "WORK_ITEM_FAIL_ITEMS": str(FAILING_ITEM)}
    yield from running_stack(request.param, env, tmp_path_factory)


def start(api: httpx.Client, name: str, body: Any) -> str:
    response = api.post(f"/orchestrators/{name}", json=body)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def status(api: httpx.Client, instance_id: str) -> dict[str, Any]:
    return api.get(f"/instances/{instance_id}").json()


def wait_for_status(api: httpx.Client, instance_id: str, check: Any, timeout: float = 30) -> dict[str, Any]:
    def checked() -> dict[str, Any] | None:
        current = status(api, instance_id)
        return current if check(current) else None

    return wait_until(checked, timeout, 0.1, lambda: f"{instance_id} never reached the expected status")


def counter(api: httpx.Client, key: str) -> int:
    response = api.get(f"/counters/{key}")
    return response.json()["value"] if response.status_code == 200 else 0


def settle(api: httpx.Client, keys: list[str], expected: int, timeout: float = 30) -> int:
    """The counters' total once their queued signals are applied (or whatever it is at the deadline)."""
    deadline = time.monotonic() + timeout
    total = sum(counter(api, key) for key in keys)
    while total != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        total = sum(counter(api, key) for key in keys)
    return total


@pytest.mark.parametrize(("decision", "outcome"), [(True, "approved"), (False, "rejected")])
def test_an_approval_waits_in_its_custom_status_until_the_decision(api: httpx.Client, decision: bool, outcome: str):
    instance_id = start(api, "approval_workflow", {"subject": "invoice 42", "timeout_seconds": 600})
    waiting = wait_for_status(api, instance_id, lambda s: (s.get("customStatus") or {}).get("state") == "waiting")
    assert waiting["runtimeStatus"] == "Running"
    assert waiting["customStatus"]["subject"] == "invoice 42"
    assert datetime.fromisoformat(waiting["customStatus"]["deadline"]).utcoffset() == timedelta(0)
    not_a_decision = api.post(f"/instances/{instance_id}/raiseEvent/approval", json={"approved": "yes"})
    assert not_a_decision.status_code == 202
    wait_for_status(api, instance_id, lambda s: "ignored" in (s.get("customStatus") or {}))
    assert api.post(f"/instances/{instance_id}/raiseEvent/approval", json={"approved": decision}).status_code == 202
    done = wait_for_output(api, f"/instances/{instance_id}")
    assert done["output"] == {"subject": "invoice 42", "outcome": outcome}
    assert done["customStatus"]["state"] == outcome


def test_an_approval_without_a_decision_times_out_on_its_durable_timer(api: httpx.Client) -> None:
    instance_id = start(api, "approval_workflow", {"timeout_seconds": 1})
    done = wait_for_output(api, f"/instances/{instance_id}", timeout=30)
    assert done["output"] == {"subject": "request", "outcome": "timed_out"}


def test_a_monitor_continues_as_new_each_round_and_stops_once_the_condition_holds(api: httpx.Client) -> None:
    key = f"watched-{uuid.uuid4().hex[:8]}"
    body = {"entity_key": key, "target": 5, "interval_seconds": 0.2, "max_rounds": 200}
    instance_id = start(api, "monitor_workflow", body)
    watching = wait_for_status(api, instance_id, lambda s: (s.get("customStatus") or {}).get("round", 0) >= 3)
    assert watching["customStatus"]["reached"] is False
    assert watching["input"]["rounds_done"] >= 1  # the input of a later generation: it continued as new
    assert api.post(f"/counters/{key}/add", json=5).status_code == 202
    done = wait_for_output(api, f"/instances/{instance_id}")
    assert done["output"]["outcome"] == "reached"
    assert done["output"]["value"] == 5
    history = api.get(f"/instances/{instance_id}", params={"history": "true"}).json()["historyEvents"]
    assert len(history) < 20, "each generation starts with a fresh history"


def test_a_monitor_gives_up_after_max_rounds(api: httpx.Client) -> None:
    body = {"entity_key": f"never-{uuid.uuid4().hex[:8]}", "target": 1, "interval_seconds": 0.1, "max_rounds": 3}
    done = wait_for_output(api, f"/instances/{start(api, 'monitor_workflow', body)}")
    assert done["output"] == {"entity_key": body["entity_key"], "outcome": "gave_up", "rounds": 3, "value": None}


def test_a_chunked_fan_out_aggregates_its_chunks_sub_orchestrations(api: httpx.Client) -> None:
    instance_id = start(api, "chunked_fan_out", {"items": list(range(1, 251)), "chunk_size": 100})
    done = wait_for_output(api, f"/instances/{instance_id}")
    squares = sum(item * item for item in range(1, 251))
    assert done["output"] == {"total_items": 250, "sum": squares, "average": squares / 250}
    last_chunk = wait_for_output(api, f"/instances/{instance_id}-chunk-2")
    assert last_chunk["input"] == list(range(201, 251))
    assert api.get(f"/instances/{instance_id}-chunk-3").status_code == 404


def test_a_failed_chunk_fails_the_parent_naming_the_chunk(api: httpx.Client) -> None:
    items = [*range(1, 11), FAILING_ITEM, *range(12, 16)]
    done = wait_for_output(api, f"/instances/{start(api, 'chunked_fan_out', {'items': items, 'chunk_size': 5})}")
    assert done["runtimeStatus"] == "Failed"
    message = done["failureDetails"]["errorMessage"]
    assert f"chunk 2 (items {FAILING_ITEM}..15, 5 items) failed" in message


def test_concurrent_transfers_and_signals_never_change_the_total(api: httpx.Client) -> None:
    keys = [f"account-{uuid.uuid4().hex[:6]}-{index}" for index in range(4)]
    for key in keys:
        assert api.post(f"/counters/{key}/add", json=100).status_code == 202
    assert settle(api, keys, 400) == 400
    transfers = [
        {"source": keys[index % 4], "destination": keys[(index + 1 + index // 4) % 4], "amount": 7 + index % 5}
        for index in range(24)
        if index % 4 != (index + 1 + index // 4) % 4
    ]

    def run(transfer: dict[str, Any]) -> dict[str, Any]:
        return wait_for_output(api, f"/instances/{start(api, 'transfer_workflow', transfer)}")

    def signal(index: int) -> int:
        return api.post(f"/counters/{keys[index % 4]}/add", json=1).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        signalled = pool.map(signal, range(20))
        results = list(pool.map(run, transfers))
    assert set(signalled) == {202}
    assert all(result["runtimeStatus"] == "Completed" for result in results)
    assert any(result["output"]["transferred"] for result in results)
    assert settle(api, keys, 420) == 420


def test_a_transfer_never_takes_more_than_the_source_holds(api: httpx.Client) -> None:
    source, destination = f"poor-{uuid.uuid4().hex[:6]}", f"rich-{uuid.uuid4().hex[:6]}"
    assert api.post(f"/counters/{source}/add", json=3).status_code == 202
    body = {"source": source, "destination": destination, "amount": 5}
    done = wait_for_output(api, f"/instances/{start(api, 'transfer_workflow', body)}")
    assert done["output"]["transferred"] is False
    assert (counter(api, source), counter(api, destination)) == (3, 0)


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("approval_workflow", {"timeout_seconds": 0}, "timeout_seconds"),
        ("approval_workflow", {"timeout_seconds": "60"}, "timeout_seconds"),
        ("monitor_workflow", {"entity_key": "k"}, "target"),
        ("monitor_workflow", {"entity_key": "k", "target": 1, "max_rounds": 0}, "max_rounds"),
        ("chunked_fan_out", {"items": [1, "two"]}, "items[1]"),
        ("chunked_fan_out", {"items": [1], "chunk_size": 0}, "chunk_size"),
        ("transfer_workflow", {"source": "a", "destination": "a", "amount": 1}, "destination"),
        ("transfer_workflow", {"source": "a", "destination": "b", "amount": -1}, "amount"),
        ("transfer_workflow", {"source": "a b", "destination": "b", "amount": 1}, "source"),
    ],
)
def test_bad_input_for_a_pattern_is_a_400_naming_the_field_and_starts_nothing(
    api: httpx.Client, stack: LocalStack, name: str, body: Any, field: str
) -> None:
    instance_id = f"refused-{uuid.uuid4().hex[:8]}"
    response = api.post(f"/orchestrators/{name}/{instance_id}", json=body)
    assert (response.status_code, response.json()["field"]) == (400, field), response.text
    assert api.get(f"/instances/{instance_id}").status_code == 404
