"""Entity operations typed with a model over HTTP, and ``GET /counters`` a page at a time, against the real
scheduler and hosted worker."""

from __future__ import annotations

import asyncio
import re
import uuid
from types import ModuleType
from typing import Any

import azure.functions as func
import pytest

from durable_app.http import openapi_document
from durable_app.workflows import workflows
from durable_app.workflows.registry import RESERVED_NAMES
from local_stack.functions_host import registered_functions
from tests.helpers.polling import wait_until
from tests.integration.test_http_api import BASE, call, handler_named, payload


def signal(app: ModuleType, key: str, op: str, body: Any) -> Any:
    route = {"name": "loyalty", "key": key}
    return call(app, "signal_entity", "POST", f"entities/loyalty/{key}", body, route=route, params={"op": op})


def loyalty_state(app: ModuleType, key: str) -> Any:
    answer = call(app, "get_entity", "GET", f"entities/loyalty/{key}", route={"name": "loyalty", "key": key})
    return payload(answer) if answer.status_code == 200 else None


def test_a_model_typed_operation_is_queued_and_the_entity_receives_the_model(app_module: ModuleType) -> None:
    key = f"pat-{uuid.uuid4().hex[:8]}"
    assert signal(app_module, key, "earn", 50).status_code == 202
    redeemed = signal(app_module, key, "redeem", {"points": 20, "reason": "coffee"})
    assert redeemed.status_code == 202, redeemed.get_body()
    assert payload(redeemed) == {"name": "loyalty", "key": key, "operation": "redeem"}
    expected = {"points": 30, "last_reason": "coffee"}
    wait_until(lambda: loyalty_state(app_module, key) == expected, 20, message=lambda: loyalty_state(app_module, key))


def test_a_signal_batch_carries_model_inputs_to_any_declared_entity_in_order(app_module: ModuleType) -> None:
    key = f"pat-{uuid.uuid4().hex[:8]}"
    signals = [
        {"entity": "loyalty", "key": key, "operation": "earn", "input": 50},
        {"entity": "loyalty", "key": key, "operation": "redeem", "input": {"points": 20, "reason": "coffee"}},
        {"entity": "loyalty", "key": key, "operation": "redeem", "input": {"points": 5, "reason": "tea"}},
    ]
    answer = call(app_module, "signal_counters", "POST", "batch/signals", {"signals": signals})
    assert answer.status_code == 202, answer.get_body()
    assert payload(answer) == {"count": 3, "queued": [0, 1, 2]}
    expected = {"points": 25, "last_reason": "tea"}
    wait_until(lambda: loyalty_state(app_module, key) == expected, 20, message=lambda: loyalty_state(app_module, key))


@pytest.mark.parametrize(
    ("body", "field", "error"),
    [
        ({"points": 20, "reason": "coffee", "coupon": "x"}, "body.coupon", 'unknown field "coupon"'),
        (
            {"points": "20", "reason": "coffee"},
            "body.points",
            'body.points must be a JSON integer, got the string "20"',
        ),
        ({"points": 0, "reason": "coffee"}, "body.points", "body.points must be more than 0, got 0"),
        ({"points": 5}, "body.reason", "body.reason is required"),
        ([5], "body", "body must be a JSON object, got an array"),
    ],
)
def test_a_bad_model_input_is_a_400_naming_its_field(app_module: ModuleType, body: Any, field: str, error: str) -> None:
    key = f"bad-{uuid.uuid4().hex[:8]}"
    refused = signal(app_module, key, "redeem", body)
    assert refused.status_code == 400
    assert payload(refused) == {"error": error, "field": field}


def counters_page(app: ModuleType, prefix: str, top: int, token: str | None) -> tuple[list[str], str | None]:
    headers = {"x-ms-continuation-token": token} if token else {}
    params = {"prefix": prefix, "top": str(top)}
    request = func.HttpRequest("GET", f"{BASE}/counters", body=b"", params=params, headers=headers)
    answer = asyncio.run(handler_named(app, "list_counters")(request))
    assert answer.status_code == 200, answer.get_body()
    return [counter["key"] for counter in payload(answer)["counters"]], answer.headers.get("x-ms-continuation-token")


def test_counters_are_listed_a_page_at_a_time_with_the_continuation_header(app_module: ModuleType) -> None:
    prefix = f"page-{uuid.uuid4().hex[:8]}-"
    keys = [f"{prefix}{index}" for index in range(5)]
    for key in keys:
        call(app_module, "signal_counter", "POST", f"counters/{key}/add", 1, route={"key": key, "operation": "add"})
    wait_until(lambda: len(counters_page(app_module, prefix, 10, None)[0]) == 5, 20, message="counters not all listed")
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page, token = counters_page(app_module, prefix, 2, token)
        assert len(page) <= 2
        seen += page
        pages += 1
        if token is None:
            break
    assert sorted(seen) == keys
    assert pages == 3


@pytest.mark.parametrize("path", ["/counters", "/entities/{name}"])
def test_the_documented_continuation_token_is_the_one_the_scheduler_issues(app_module: ModuleType, path: str) -> None:
    prefix = f"doc-{uuid.uuid4().hex[:8]}-"
    for key in (f"{prefix}a", f"{prefix}b"):
        call(app_module, "signal_counter", "POST", f"counters/{key}/add", 1, route={"key": key, "operation": "add"})
    wait_until(lambda: len(counters_page(app_module, prefix, 10, None)[0]) == 2, 20, message="counters not listed")
    _, token = counters_page(app_module, prefix, 1, None)
    assert token is not None
    headers = openapi_document()["paths"][path]["get"]["responses"]["200"]["headers"]
    schema = headers["x-ms-continuation-token"]["schema"]
    assert schema["type"] == "string"
    assert re.fullmatch(schema["pattern"], token), schema


def test_a_counters_page_size_out_of_range_is_a_400_naming_top(app_module: ModuleType) -> None:
    answer = call(app_module, "list_counters", "GET", "counters", params={"top": "0"})
    assert answer.status_code == 400
    assert payload(answer)["field"] == "top"


def test_the_names_the_registry_reserves_are_the_app_s_own_start_functions(app_module: ModuleType) -> None:
    """An orchestrator named like one of them would give two functions one name, which the host refuses."""
    names = {function.get_function_name().lower() for function in registered_functions(app_module.app)}
    own = {name.removeprefix("start_") for name in names if name.startswith("start_")} - set(workflows.orchestrators)
    assert own == set(RESERVED_NAMES)
