"""The OpenAPI document against the running app: schemathesis fuzzes every operation, valid and invalid input.

No answer may be a 5xx, every answer must match the document (status, headers, body), and invalid input
must be refused with a 4xx in the documented error shape. The local host enforces no function key here,
as under ``func start``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from durable_app.http import openapi_document
from tests.helpers.limits import MAX_BATCH_SIGNALS, MAX_BATCH_STARTS, MAX_BATCH_WORK_ITEMS, MAX_BODY_BYTES
from tests.helpers.stack import LocalStack

pytestmark = pytest.mark.timeout(900)

MAX_EXAMPLES = 50
BIG_FAN_OUT = 50
"""Valid counts above this are folded below it: the contract is the same, the scheduler's load is not."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = {operation.label: operation for operation in (result.ok() for result in SCHEMA.get_all_operations())}


def test_the_app_serves_this_document(stack: LocalStack) -> None:
    served = httpx.get(f"{stack.base_url}/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == openapi_document(stack.base_url)


def test_the_served_document_states_the_documented_limits(stack: LocalStack) -> None:
    """The limits in the document the app serves are the ones docs/api.md states, not whatever the code says."""
    paths = httpx.get(f"{stack.base_url}/openapi.json", timeout=30).json()["paths"]
    signals = paths["/batch/signals"]["post"]
    starts = paths["/batch/orchestrators/{name}"]["post"]
    assert _body_schema(signals)["properties"]["signals"]["maxItems"] == MAX_BATCH_SIGNALS
    assert _body_schema(starts)["properties"]["inputs"]["maxItems"] == MAX_BATCH_STARTS
    assert f"at most {MAX_BATCH_WORK_ITEMS} fan-out work items in all" in starts["requestBody"]["description"]
    for operation in (signals, starts):
        assert (
            operation["responses"]["413"]["description"] == f"The request body is larger than {MAX_BODY_BYTES} bytes."
        )


def _body_schema(operation: dict[str, Any]) -> dict[str, Any]:
    return operation["requestBody"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_operation_keeps_its_contract(stack: LocalStack, label: str) -> None:
    """Valid and invalid requests alike: documented answers only, never a 5xx, refusals in the error shape."""
    operation = OPERATIONS[label]
    cases = st.one_of(operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def check(case: Case) -> None:
        assume(not _emptied_by_the_host(case))
        _bound_fan_out(case)
        _bound_wait(case)
        response = case.call_and_validate(base_url=stack.base_url, checks=CHECKS, timeout=60)
        if response.status_code >= 400:
            body = response.json()
            assert set(body) in _error_shapes(case.operation.path, response.status_code), body
            assert isinstance(body["error"], str) and body["error"]

    check()


def _emptied_by_the_host(case: Case) -> bool:
    """A negative case with a query value that goes on the wire empty (``None``, ``""``, ``[]``): the Functions host
    drops empty query values before the function sees them (``?top=`` is no ``top``), so its invalid value never
    reaches the app, and the request it makes is valid."""
    negative = case.meta is not None and case.meta.generation.mode == GenerationMode.NEGATIVE
    return negative and any(value in (None, "", [], {}) for value in (case.query or {}).values())


def _error_shapes(path: str, status: int) -> list[set[str]]:
    """The keys of an error answer: the error shape, plus each entry's outcome when a batch fails part-way."""
    shapes = [{"error", "field"}]
    if path.startswith("/batch/") and status in (409, 429, 502, 503, 504):
        lists = {"error", "field", "queued", "failed", "uncertain"}
        shapes = [lists | {"instances"}] if path.startswith("/batch/orchestrators") else [lists]
    return shapes


def _bound_fan_out(case: Case) -> None:
    """Fold large valid counts so fuzzing does not queue hundreds of thousands of activities."""
    if case.operation.path.startswith("/batch/orchestrators") and isinstance(case.body, dict):
        entries = case.body.get("inputs")
        if isinstance(entries, list):
            folded = [_folded(entry) for entry in entries]
            case.body = {**case.body, "inputs": folded}
        return
    if not case.operation.path.startswith("/orchestrators/fan_out_fan_in_orchestrator"):
        return
    if isinstance(case.body, dict) and _big_count(case.body.get("count")):
        case.body = {**case.body, "count": case.body["count"] % BIG_FAN_OUT}
    if case.query and _big_count(case.query.get("count")):
        case.query = {**case.query, "count": case.query["count"] % BIG_FAN_OUT}


def _bound_wait(case: Case) -> None:
    """Hold a valid ``timeout`` to 1 s: an instance waiting for an event would hold the request up to the cap."""
    timeout = (case.query or {}).get("timeout")
    if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 1:
        case.query = {**case.query, "timeout": 1}


def _folded(entry: object) -> object:
    if isinstance(entry, dict) and _big_count(entry.get("count")):
        return {**entry, "count": entry["count"] % BIG_FAN_OUT}
    return entry


def _big_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and BIG_FAN_OUT < value <= 5000


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/orchestrators/fan_out_fan_in_orchestrator", b"{not json"),
        ("POST", "/orchestrators/fan_out_fan_in_orchestrator", b'{"items": [1, "two"]}'),
        ("POST", "/orchestrators/fan_out_fan_in_orchestrator", b'{"count": -1}'),
        ("POST", "/orchestrators/counter_workflow", b"{}"),
        ("POST", "/counters/k/add", b'"ten"'),
        ("POST", "/counters/k/multiply", b"2"),
        ("POST", "/counters/bad%20key/add", b"1"),
        ("POST", "/batch/signals", b'{"signals": [{"key": "k", "operation": "add"}]}'),
        ("POST", "/batch/orchestrators/counter_workflow", b'{"inputs": ["k", {}]}'),
        ("GET", "/instances/bad%20id", b""),
        ("GET", "/instances/someid?history=maybe", b""),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api: httpx.Client, method: str, path: str, body: bytes) -> None:
    response = api.request(method, path, content=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert set(error) == {"error", "field"}
    assert isinstance(error["error"], str) and isinstance(error["field"], str)
