"""Property tests through the HTTP API: whatever the input, the durable result is exactly the model's.

Counters: random interleavings of add/subtract/reset on several keys, one request each or all in one batch.
Each key is then read through ``counter_workflow``, whose ``get`` is queued behind every earlier signal, so
its answer is exact with no waiting on timing: the model's value plus the workflow's own +12. Fan-out: random
integer lists (empty and negative included) give the model's count, sum of squares and average.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.stack import LocalStack, wait_for_output

pytestmark = pytest.mark.timeout(900)

KEYS = ("a", "b", "c")
WORKFLOW_DELTA = 10 + 5 - 3
"""``counter_workflow`` signals add 10, add 5, subtract 3 before reading the counter."""

PROPERTY_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

amounts = st.integers(min_value=-(10**6), max_value=10**6)
operations = st.one_of(
    st.tuples(st.sampled_from(KEYS), st.sampled_from(("add", "subtract")), amounts),
    st.tuples(st.sampled_from(KEYS), st.just("reset"), st.none()),
)


def model(ops: list[tuple[str, str, int | None]]) -> dict[str, int]:
    values: dict[str, int] = {}
    for key, operation, amount in ops:
        current = values.get(key, 0)
        if operation == "add":
            values[key] = current + amount  # type: ignore[operator]
        elif operation == "subtract":
            values[key] = current - amount  # type: ignore[operator]
        else:
            values[key] = 0
    return values


@PROPERTY_SETTINGS
@given(ops=st.lists(operations, min_size=1, max_size=25))
def test_counter_operations_end_at_the_models_value(stack: LocalStack, ops: list[tuple[str, str, int | None]]) -> None:
    run = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        for key, operation, amount in ops:
            body = {} if amount is None else {"json": amount}
            sent = api.post(f"/counters/{run}-{key}/{operation}", **body)
            assert sent.status_code == 202, sent.text
        for entity_key, expected in _workflow_totals(api, run, ops).items():
            assert api.get(f"/counters/{entity_key}").json()["value"] == expected


@PROPERTY_SETTINGS
@given(ops=st.lists(operations, min_size=1, max_size=60))
def test_one_batch_of_signals_ends_at_the_models_value(
    stack: LocalStack, ops: list[tuple[str, str, int | None]]
) -> None:
    """The same interleavings sent as one batch: concurrent across keys, in order within each."""
    run = uuid.uuid4().hex[:8]
    signals = [{"key": f"{run}-{key}", "operation": operation, "amount": amount} for key, operation, amount in ops]
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        sent = api.post("/batch/signals", json={"signals": signals})
        assert sent.status_code == 202, sent.text
        assert sent.json() == {"count": len(ops), "queued": list(range(len(ops)))}
        _workflow_totals(api, run, ops)


def _workflow_totals(api: httpx.Client, run: str, ops: list[tuple[str, str, int | None]]) -> dict[str, int]:
    """Run ``counter_workflow`` on each key and check it ends at the model's value plus its own; return those."""
    totals = {}
    for key, expected in model(ops).items():
        entity_key = f"{run}-{key}"
        started = api.post("/orchestrators/counter_workflow", json={"entity_key": entity_key})
        assert started.status_code == 202, started.text
        output = wait_for_output(api, started.json()["statusQueryGetUri"])["output"]
        assert output == f"Counter '{entity_key}' final value: {expected + WORKFLOW_DELTA}"
        totals[entity_key] = expected + WORKFLOW_DELTA
    return totals


@PROPERTY_SETTINGS
@given(items=st.lists(st.integers(min_value=-(10**9), max_value=10**9), max_size=40))
def test_fan_out_gives_the_models_aggregate(stack: LocalStack, items: list[int]) -> None:
    squares = [item * item for item in items]
    expected = {
        "total_items": len(items),
        "sum": sum(squares),
        "average": sum(squares) / len(items) if items else 0,
    }
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        started = api.post("/orchestrators/fan_out_fan_in_orchestrator", json=items)
        assert started.status_code == 202, started.text
        status = wait_for_output(api, started.json()["statusQueryGetUri"])
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == expected
